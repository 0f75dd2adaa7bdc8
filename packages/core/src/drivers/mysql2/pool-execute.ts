import { AsyncResource } from 'node:async_hooks';
import type { DbInfo, StatementHandle, StatementRecorder } from '../../capture/types.js';
import { JournalUnavailableError, QuerytrailError } from '../../errors.js';
import { fail, paramsOf } from './begin.js';
import type { AnyFunction, PoolLike, ResultCallback } from './types.js';
import { warnRecorderFailure } from './warn.js';

/**
 * pool.execute in sync (or auto) delivery: the statement is begun by the pool at the call site, before
 * a connection is checked out, and handed to mysql2's pool.execute only once its attempt record is
 * durable. No pool connection waits idle through the journal's fdatasync, and every statement waiting
 * at that moment shares it (group commit). The connection that runs it adopts the handle
 * (send-execute.ts): its db.query record names that connection; the attempt names the database
 * without a connection_id. Anything else (no connection seen yet, async delivery, no callback) goes
 * through mysql2 unchanged. Same design as pg's pool.query (drivers/pg/pool-query.ts).
 */
export const kPoolBegun = Symbol('querytrail.mysql2.poolBegun');

export interface PoolBegun {
  readonly handle: StatementHandle;
  adopted: boolean;
}

export interface PoolExecuteState {
  readonly recorder: StatementRecorder;
  readonly execute: AnyFunction;
  /** The pool's database (from its first connection), without connection_id. */
  db: DbInfo | undefined;
}

export function poolBegunOf(sql: unknown): PoolBegun | undefined {
  return typeof sql === 'object' && sql !== null ? (sql as { [kPoolBegun]?: PoolBegun })[kPoolBegun] : undefined;
}

export function poolExecute(state: PoolExecuteState, pool: PoolLike, args: unknown[]): unknown {
  let [sql, values, cb] = args;
  if (typeof values === 'function') {
    cb = values;
    values = [];
  }
  const obj = typeof sql === 'object' && sql !== null && Object.getPrototypeOf(sql) === Object.prototype ? (sql as { sql?: unknown; values?: unknown }) : undefined;
  const text = obj ? obj.sql : sql;
  if (!state.recorder.evidenceFirst || state.db === undefined || typeof cb !== 'function' || typeof text !== 'string') {
    return state.execute.apply(pool, args);
  }
  const params = obj ? obj.values || values : values;
  let handle: StatementHandle | undefined;
  let refused: unknown;
  const start = { text, params: paramsOf(params), db: state.db };
  try {
    handle = state.recorder.begin(start);
  } catch (error) {
    if (!(error instanceof QuerytrailError)) {
      warnRecorderFailure(error, { recorder: state.recorder, operation: 'recorder.begin', start, unaudited: true });
      return state.execute.apply(pool, args);
    }
    refused = error;
  }
  // The callback runs in the caller's async context, as the connection-level wrapper does it.
  const scope = new AsyncResource('querytrail.mysql2.poolExecute');
  const callback = cb as ResultCallback;
  const done = (...a: unknown[]): void => {
    scope.runInAsyncScope(callback as (...x: unknown[]) => unknown, undefined, ...a);
  };
  if (handle === undefined) {
    process.nextTick(done, refused);
    return undefined;
  }
  const h = handle;
  const begun: PoolBegun = { handle: h, adopted: false };
  const config = { ...obj, sql: text, [kPoolBegun]: begun };
  const send = (): void => {
    try {
      state.execute.call(pool, config, values, (err: unknown, rows?: unknown, fields?: unknown) => {
        // No connection took it (checkout failed, pool closed): the statement was never sent.
        if (!begun.adopted) fail(h, err ?? new Error('mysql2 pool did not run the statement'));
        done(err, rows, fields);
      });
    } catch (err) {
      if (!begun.adopted) fail(h, err);
      done(err);
    }
  };
  const ready = h.ready;
  if (ready === undefined) send();
  else ready.then(send, (error: unknown) => done(refusalError(error)));
  return undefined;
}

function refusalError(error: unknown): QuerytrailError {
  if (error instanceof QuerytrailError) return error;
  return new JournalUnavailableError('querytrail could not store the attempt record; the statement was not sent', { cause: error });
}
