import { formatMicros, nowMicros } from '../event/clock.js';
import type { Analysis } from '../analysis/index.js';
import type { DbInfo, QuerytrailEvent, StatementInfo, TraceInfo } from '../event/types.js';
import { applyAnalysis, objectsOf } from './describe.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import type { AuditContext } from '../context/types.js';
import type { StatementHandle, StatementOutcome, StatementStart } from './types.js';
import type { CaptureRuntime } from './runtime.js';

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

/** One statement between begin and its outcome; turns into exactly one db.query event. */
export class StatementCapture implements StatementHandle {
  readonly ready: Promise<void> | undefined;
  private readonly startMicros: number;
  private rows = 0;
  private done = false;

  constructor(
    private readonly runtime: CaptureRuntime,
    private readonly start: StatementStart,
    private readonly context: AuditContext | undefined,
    private readonly trace: TraceInfo | undefined,
    private readonly statement: StatementInfo,
    private analysis: Analysis,
    /** The parsers were still loading at begin: analyse again at the end. */
    private readonly provisional: boolean,
    /** Sync mode: the durable write of the attempt record, which must finish before sending. */
    durable?: { attemptId: string; written: Promise<void> },
  ) {
    this.startMicros = nowMicros();
    this.attemptId = durable?.attemptId;
    this.ready = durable?.written;
    // If the attempt cannot be stored, the statement is never sent: record that here, whatever the driver does.
    this.ready?.catch((error: unknown) => this.refuse(error));
  }

  private readonly attemptId: string | undefined;

  addRows(count: number): void {
    if (!this.done && count > 0) this.rows += count;
  }

  succeed(outcome?: StatementOutcome): void {
    if (this.done) return;
    this.done = true;
    const returned = outcome?.rowsReturned ?? (this.rows > 0 ? this.rows : undefined);
    const result: QuerytrailEvent['result'] = { outcome: 'success' };
    if (returned !== undefined) result.rows_returned = Math.max(returned, this.rows);
    if (outcome?.rowsAffected !== undefined) result.rows_affected = outcome.rowsAffected;
    this.runtime.succeeded(this.start.db, this.analysis);
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

  private refuse(error: unknown): void {
    if (this.done) return;
    this.done = true;
    const c = errorCode(error);
    this.finish({ outcome: 'blocked', error: c === undefined ? { message: errorMessage(error) } : { code: c, message: errorMessage(error) } });
  }

  private finish(result: NonNullable<QuerytrailEvent['result']>): void {
    // Statements sent while the parsers were loading wait for them, so no event carries a guess.
    const end = nowMicros();
    if (this.provisional) this.runtime.afterAnalyzers(() => this.emitEvent(result, end));
    else this.emitEvent(result, end);
  }

  private emitEvent(result: NonNullable<QuerytrailEvent['result']>, end: number): void {
    if (this.provisional) {
      this.analysis = this.runtime.analyze(this.start.text, this.start.db);
      applyAnalysis(this.statement, this.analysis);
    }
    const objects = objectsOf(this.analysis);
    const ctx = this.context;
    const event: QuerytrailEvent = {
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type: 'db.query',
      time: formatMicros(end),
      start_time: formatMicros(this.startMicros),
      end_time: formatMicros(end),
      duration_us: end - this.startMicros,
      integrity: undefined,
      source: this.runtime.source,
      ...(ctx?.actor ? { actor: ctx.actor } : {}),
      ...(ctx?.request ? { request: ctx.request } : {}),
      ...(this.trace ? { trace: this.trace } : {}),
      db: this.start.db as DbInfo,
      ...(ctx?.orm ? { orm: ctx.orm } : {}),
      statement: this.statement,
      ...(objects ? { objects } : {}),
      result,
      ...(this.attemptId === undefined ? {} : { attempt_id: this.attemptId }),
    };
    this.runtime.emit(event);
  }
}
