/**
 * The parts of node-postgres (pg 8, pg-pool 3, pg-cursor 2, pg-query-stream 4) this wrapper touches.
 * Structural on purpose: core never imports 'pg' at run time.
 */

export type PgCallback = (this: unknown, err: unknown, result?: unknown) => unknown;

/** pg's Connection: only the statements it has already parsed (name → text), when present. */
export interface PgConnectionLike {
  parsedStatements?: Record<string, string | undefined>;
}

/** pg's Result (one per statement of a multi-statement text). */
export interface PgResultLike {
  command?: string | null;
  rowCount?: number | null;
  rows?: unknown[];
  fields?: unknown[];
}

/** A query config object, as accepted by client.query. */
export interface PgQueryConfigLike {
  text?: unknown;
  values?: unknown;
  name?: unknown;
  callback?: unknown;
}

/** Anything with submit(): pg.Query, pg-cursor, pg-query-stream, pg-copy-streams. */
export interface PgSubmittableLike {
  submit(connection: unknown): unknown;
  text?: unknown;
  values?: unknown;
  name?: unknown;
  callback?: unknown;
  /** pg-query-stream: the pg-cursor it delegates to (holds text and values). */
  cursor?: { text?: unknown; values?: unknown; name?: unknown } | null;
  handleRowDescription?: PgHandler;
  handleDataRow?: PgHandler;
  handlePortalSuspended?: PgHandler;
  handleCommandComplete?: PgHandler;
  handleEmptyQuery?: PgHandler;
  handleError?: PgHandler;
  handleReadyForQuery?: PgHandler;
}

export type PgHandler = (this: PgSubmittableLike, ...args: unknown[]) => unknown;

export type PgQueryFn = (this: PgClientLike, config?: unknown, values?: unknown, callback?: unknown) => unknown;

export interface EmitterLike {
  on(event: string, listener: (...args: never[]) => void): unknown;
}

export interface PgClientLike extends EmitterLike {
  query: PgQueryFn;
  connect(...args: unknown[]): unknown;
  database?: string | undefined;
  user?: string | undefined;
  host?: string | undefined;
  port?: number | string | undefined;
  processID?: number | null | undefined;
  connection?: PgConnectionLike | undefined;
  /** The Promise class of client.query's promise (`new Client({ Promise })`, default the global one). */
  _Promise?: PromiseConstructor | undefined;
  /** Set by pg-pool on every checkout. */
  release?: unknown;
}

export type PgConnectFn = (this: PgPoolLike, callback?: unknown) => unknown;

export interface PgPoolLike extends EmitterLike {
  connect: PgConnectFn;
  query(...args: unknown[]): unknown;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  /** The constructor pg-pool uses for new clients (`new this.Client(this.options)`). */
  Client?: unknown;
  /** Every client the pool holds, idle or checked out. */
  _clients?: unknown;
}
