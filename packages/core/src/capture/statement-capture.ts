import { formatMicros, nowMicros } from '../event/clock.js';
import type { DbInfo, IntegrityInfo, QuerytrailEvent, ResultInfo } from '../event/types.js';
import { type JournalRecord, type LineOut, lineText } from '../journal/record.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import type { BulkStatementCounter } from '../policy/index.js';
import { applyAnalysis } from './describe.js';
import { isRecorded, type PendingStatement, statementFields } from './pending-statement.js';
import type { CaptureRuntime } from './runtime.js';
import { writeStatementLine } from './statement-line.js';
import type { StatementHandle, StatementOutcome } from './types.js';

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; errno?: unknown };
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code; // SQLSTATE
  if (typeof e.errno === 'number') return String(e.errno);
  if (typeof e.code === 'string') return e.code;
  return undefined;
}

export interface CaptureOptions {
  /** The parsers were still loading at begin: analyse again before the event is written. */
  provisional: boolean;
  /**
   * Must settle before the statement is sent: the durable attempt record (sync mode) and/or the policy
   * decision on a statement begun before the parsers loaded. A rejection means: never sent.
   */
  ready?: Promise<void> | undefined;
  /** Sync mode: the event_id of the db.query.attempt record (a function when it is decided later). */
  attemptId?: string | (() => string | undefined) | undefined;
  /** Counts rows read from sensitive objects (bulk-read policy); shared by all captures of an auditor. */
  bulk?: ((pending: PendingStatement) => BulkStatementCounter | undefined) | undefined;
}

/**
 * One statement between begin and its outcome; turns into exactly one db.query event. The capture is
 * itself the journal record of that event: the writer asks it for its line (statement-line.ts), and
 * the event object is only built when a listener wants it.
 */
export class StatementCapture implements StatementHandle, JournalRecord {
  // One of these per statement: fields are `declare`d and assigned in the constructor (class field
  // initialisers define each property through a separate initialiser, which showed in profiles).
  declare readonly type: 'db.query';
  declare readonly ready: Promise<void> | undefined;
  declare private readonly runtime: CaptureRuntime;
  declare private readonly pending: PendingStatement;
  declare private readonly options: CaptureOptions;
  declare private readonly startMicros: number;
  declare private readonly eventId: string;
  declare private rows: number;
  declare private done: boolean;
  declare private endMicros: number;
  declare private result: ResultInfo | undefined;
  declare private event: QuerytrailEvent | undefined;

  constructor(runtime: CaptureRuntime, pending: PendingStatement, options: CaptureOptions) {
    this.type = 'db.query';
    this.runtime = runtime;
    this.pending = pending;
    this.options = options;
    this.startMicros = nowMicros();
    this.eventId = uuidv7();
    this.rows = 0;
    this.done = false;
    this.endMicros = 0;
    this.result = undefined;
    this.event = undefined;
    this.ready = options.ready;
    // If the statement may not be sent (journal unavailable, or a deferred policy block), record it here,
    // whatever the driver does with the rejection.
    this.ready?.catch((error: unknown) => this.refuse(error));
  }

  adoptConnection(db: DbInfo, connection: object): void {
    if (this.done) return;
    // The attempt record kept the db it was written with; nothing else holds `start`.
    const start = this.pending.start;
    start.db = db;
    start.connection = connection;
    this.runtime.lexingSending(this.pending);
  }

  addRows(count: number): void {
    if (this.done || !(count > 0)) return;
    this.rows += count;
    this.countSensitiveRows(count);
  }

  succeed(outcome?: StatementOutcome): void {
    if (this.done) return;
    this.done = true;
    if (this.pending.lexingChanger) this.runtime.lexingSettled(this.pending);
    const returned = outcome?.rowsReturned ?? (this.rows > 0 ? this.rows : undefined);
    if (returned !== undefined && returned > this.rows) this.countSensitiveRows(returned - this.rows);
    const result: QuerytrailEvent['result'] = { outcome: 'success' };
    if (returned !== undefined) result.rows_returned = Math.max(returned, this.rows);
    if (outcome?.rowsAffected !== undefined) result.rows_affected = outcome.rowsAffected;
    this.runtime.succeeded(this.pending.start.db, this.pending.analysis);
    this.finish(result);
  }

  fail(error: unknown, code?: string): void {
    if (this.done) return;
    this.done = true;
    if (this.pending.lexingChanger) this.runtime.lexingSettled(this.pending);
    const c = code ?? errorCode(error);
    const result: QuerytrailEvent['result'] = {
      outcome: 'failure',
      error: c === undefined ? { message: errorMessage(error) } : { code: c, message: errorMessage(error) },
    };
    if (this.rows > 0) result.rows_returned = this.rows;
    this.finish(result);
  }

  private attemptId(): string | undefined {
    const a = this.options.attemptId;
    return typeof a === 'function' ? a() : a;
  }

  private countSensitiveRows(n: number): void {
    const counter = this.options.bulk?.(this.pending);
    if (!counter) return;
    const alerts = counter.add(n);
    if (alerts.length > 0) this.runtime.alert(this.pending, alerts, this.eventId);
  }

  private refuse(error: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.pending.lexingChanger) this.runtime.lexingSettled(this.pending);
    // A policy block decided late has its own db.query.blocked record already.
    if (isRecorded(error)) return;
    const c = errorCode(error);
    this.finish({ outcome: 'blocked', error: c === undefined ? { message: errorMessage(error) } : { code: c, message: errorMessage(error) } });
  }

  private finish(result: NonNullable<QuerytrailEvent['result']>): void {
    const end = nowMicros();
    // Statements sent while the parsers were loading wait for them, so no event carries a guess.
    if (this.options.provisional) this.runtime.afterAnalyzers(() => this.emitEvent(result, end));
    else this.emitEvent(result, end);
  }

  private emitEvent(result: NonNullable<QuerytrailEvent['result']>, end: number): void {
    const p = this.pending;
    try {
      if (this.options.provisional) {
        p.analysis = this.runtime.analyze(p.start.text, p.start.db);
        applyAnalysis(p.statement, p.analysis);
      }
      this.result = result;
      this.endMicros = end;
      this.runtime.emitRecord(this);
    } catch (error) {
      // A bug of ours must not make the statement vanish without a trace: the gap is itself recorded.
      this.runtime.recordingFailed({ driver: p.start.db.driver ?? 'core', operation: 'db.query record', error, start: p.start, unaudited: true });
    }
  }

  line(integrity: IntegrityInfo): string {
    return lineText((out) => this.writeLine(out, integrity));
  }

  writeLine(out: LineOut, integrity: IntegrityInfo): void {
    // seq 0 is the spill's placeholder (journal/spill-frame.ts), not a chain position.
    if (this.event !== undefined && integrity.seq > 0) this.event.integrity = integrity;
    const time = formatMicros(this.endMicros);
    writeStatementLine(
      out,
      'db.query',
      this.eventId,
      { time, start: formatMicros(this.startMicros), durationUs: this.endMicros - this.startMicros },
      integrity,
      this.runtime.source,
      this.pending,
      this.pending.start.db,
      this.result,
      this.attemptId(),
    );
  }

  toEvent(): QuerytrailEvent {
    if (this.event !== undefined) return this.event;
    const end = this.endMicros;
    const attemptId = this.attemptId();
    this.event = {
      schema: EVENT_SCHEMA,
      event_id: this.eventId,
      type: 'db.query',
      time: formatMicros(end),
      start_time: formatMicros(this.startMicros),
      end_time: formatMicros(end),
      duration_us: end - this.startMicros,
      integrity: undefined,
      source: this.runtime.source,
      ...statementFields(this.pending),
      result: this.result!,
      ...(attemptId === undefined ? {} : { attempt_id: attemptId }),
    };
    return this.event;
  }
}
