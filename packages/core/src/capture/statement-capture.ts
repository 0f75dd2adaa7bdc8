import { formatMicros, nowMicros } from '../event/clock.js';
import type { DbInfo, QuerytrailEvent, StatementInfo, TraceInfo } from '../event/types.js';
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
  readonly ready: Promise<void> | undefined = undefined;
  private readonly startMicros: number;
  private rows = 0;
  private done = false;

  constructor(
    private readonly runtime: CaptureRuntime,
    private readonly start: StatementStart,
    private readonly context: AuditContext | undefined,
    private readonly trace: TraceInfo | undefined,
    private readonly statement: StatementInfo,
  ) {
    this.startMicros = nowMicros();
  }

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

  private finish(result: NonNullable<QuerytrailEvent['result']>): void {
    const end = nowMicros();
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
      result,
    };
    this.runtime.emit(event);
  }
}
