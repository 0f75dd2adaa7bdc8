import { AsyncResource } from 'node:async_hooks';
import type { DbInfo, StatementHandle, StatementRecorder } from '../../capture/types.js';
import { dispatchBegun, notSentAsRecorded, type PoolBegun } from '../pool-handoff.js';
import { JournalUnavailableError, QuerytrailError } from '../../errors.js';
import { fail, paramsOf } from './begin.js';
import type { AnyFunction, PoolLike, ResultCallback } from './types.js';
import { warnRecorderFailure } from './warn.js';

/**
 * pool.execute in sync (or auto) delivery: the statement is begun by the pool at the call site, before
 * a connection is checked out, and handed to mysql2's pool.execute only once its attempt record is
 * durable. No pool connection waits idle through the journal's fdatasync, and every statement waiting
 * at that moment shares it (group commit). The connection that runs it adopts the handle
 * (send-execute.ts), found through the checkout (drivers/pool-handoff.ts): its db.query record names
 * that connection; the attempt names the database without a connection_id. Anything else (no
 * connection seen yet, async delivery, no callback) goes through mysql2 unchanged. Same design as
 * pg's pool.query (drivers/pg/pool-query.ts).
 */
export interface PoolExecuteState {
  readonly recorder: StatementRecorder;
  readonly execute: AnyFunction;
  /** The pool's database (from its first connection), without connection_id. */
  db: DbInfo | undefined;
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
  // Named placeholders (an object of values): the connection-level path records them.
  if (params !== undefined && params !== null && !Array.isArray(params)) return state.execute.apply(pool, args);
  let handle: StatementHandle | undefined;
  let refused: unknown;
  // The values recorded are the values sent: a copy, taken now, that the application cannot change
  // while the statement waits for its attempt record.
  const ownValues = Array.isArray(params) ? params.slice() : undefined;
  const start = { text, params: paramsOf(ownValues), db: state.db };
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
  // Once: mysql2's pool may call back synchronously (queue limit reached), and a throw from the
  // application's callback then reaches send()'s catch, which must not answer a second time.
  let replied = false;
  const done = (...a: unknown[]): void => {
    if (replied) return;
    replied = true;
    scope.runInAsyncScope(callback as (...x: unknown[]) => unknown, undefined, ...a);
  };
  if (handle === undefined) {
    process.nextTick(done, refused);
    return undefined;
  }
  const h = handle;
  const begun: PoolBegun = { handle: h, text, values: ownValues, adopted: false };
  // Copies taken now: what the application does to its options while the attempt is synced changes
  // neither what is sent nor what was recorded.
  const sentSql: unknown = obj === undefined ? text : { ...obj, sql: text, values: ownValues };
  const sentValues = ownValues ?? values;
  const send = (): void => {
    try {
      dispatchBegun(pool, begun, () =>
        state.execute.call(pool, sentSql, sentValues, (err: unknown, rows?: unknown, fields?: unknown) => {
          // No connection took it over. With an error: no checkout (pool closed, connection failed), so
          // it was never sent. Without: the connection was handed something else, recorded on its own.
          if (!begun.adopted) fail(h, err ?? notSentAsRecorded());
          done(err, rows, fields);
        }),
      );
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
