import { formatMicros, nowMicros } from '../event/clock.js';
import type { QuerytrailEvent } from '../event/types.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import type { BulkStatementCounter } from '../policy/index.js';
import { applyAnalysis } from './describe.js';
import { isRecorded, type PendingStatement, statementFields } from './pending-statement.js';
import type { CaptureRuntime } from './runtime.js';
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
  /** Sync mode: the event_id of the db.query.attempt record. */
  attemptId?: () => string | undefined;
  /** Counts rows read from sensitive objects (bulk-read policy). */
  bulk?: () => BulkStatementCounter | undefined;
}

/** One statement between begin and its outcome; turns into exactly one db.query event. */
export class StatementCapture implements StatementHandle {
  readonly ready: Promise<void> | undefined;
  private readonly startMicros: number;
  private readonly eventId = uuidv7();
  private rows = 0;
  private done = false;

  constructor(
    private readonly runtime: CaptureRuntime,
    private readonly pending: PendingStatement,
    private readonly options: CaptureOptions,
  ) {
    this.startMicros = nowMicros();
    this.ready = options.ready;
    // If the statement may not be sent (journal unavailable, or a deferred policy block), record it here,
    // whatever the driver does with the rejection.
    this.ready?.catch((error: unknown) => this.refuse(error));
  }

  addRows(count: number): void {
    if (this.done || !(count > 0)) return;
    this.rows += count;
    this.countSensitiveRows(count);
  }

  succeed(outcome?: StatementOutcome): void {
    if (this.done) return;
    this.done = true;
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
    const c = code ?? errorCode(error);
    const result: QuerytrailEvent['result'] = {
      outcome: 'failure',
      error: c === undefined ? { message: errorMessage(error) } : { code: c, message: errorMessage(error) },
    };
    if (this.rows > 0) result.rows_returned = this.rows;
    this.finish(result);
  }

  private countSensitiveRows(n: number): void {
    const counter = this.options.bulk?.();
    if (!counter) return;
    const alerts = counter.add(n);
    if (alerts.length > 0) this.runtime.alert(this.pending, alerts, this.eventId);
  }

  private refuse(error: unknown): void {
    if (this.done) return;
    this.done = true;
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
    if (this.options.provisional) {
      p.analysis = this.runtime.analyze(p.start.text, p.start.db);
      applyAnalysis(p.statement, p.analysis);
    }
    const attemptId = this.options.attemptId?.();
    const event: QuerytrailEvent = {
      schema: EVENT_SCHEMA,
      event_id: this.eventId,
      type: 'db.query',
      time: formatMicros(end),
      start_time: formatMicros(this.startMicros),
      end_time: formatMicros(end),
      duration_us: end - this.startMicros,
      integrity: undefined,
      source: this.runtime.source,
      ...statementFields(p),
      result,
      ...(attemptId === undefined ? {} : { attempt_id: attemptId }),
    };
    this.runtime.emit(event);
  }
}
