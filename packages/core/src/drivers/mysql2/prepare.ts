import { AsyncResource } from 'node:async_hooks';
import type { StatementRecorder } from '../../capture/types.js';
import { sendExecute } from './send-execute.js';
import { type ConnectionState, isInstrumented, markInstrumented } from './state.js';
import type { AnyFunction, ConnectionLike, PreparedStatementLike } from './types.js';

/** statement.execute(params?, cb?): recorded with the statement's text and its server-side id. */
function patchStatement(recorder: StatementRecorder, stmt: PreparedStatementLike, conn: ConnectionLike, state: ConnectionState): void {
  if (isInstrumented(stmt)) return;
  markInstrumented(stmt);
  const original = stmt.execute as AnyFunction;
  stmt.execute = function execute(this: PreparedStatementLike, ...args: unknown[]): unknown {
    const cbIndex = typeof args[0] === 'function' ? 0 : typeof args[1] === 'function' ? 1 : -1;
    const params = cbIndex === 0 ? undefined : args[0];
    return sendExecute(recorder, original, this, args, { text: this.query, params, preparedName: String(this.id), cbIndex, connection: conn }, state);
  };
}

/**
 * connection.prepare(sql | options, cb): the statement handed to the callback (new or from the
 * per-connection cache) gets its execute instrumented. Preparing runs nothing, so it is not an event
 * by itself; each execute is. statement.close() is left as is.
 */
export function patchPrepare(recorder: StatementRecorder, conn: ConnectionLike, state: ConnectionState): void {
  const original = conn.prepare as AnyFunction;
  conn.prepare = function prepare(this: ConnectionLike, ...args: unknown[]): unknown {
    const cb = args[1];
    if (typeof cb !== 'function') return original.apply(this, args);
    const scope = new AsyncResource('querytrail.mysql2.prepare');
    args[1] = function (this: unknown, err: unknown, stmt: unknown) {
      if (!err && typeof stmt === 'object' && stmt !== null) patchStatement(recorder, stmt as PreparedStatementLike, conn, state);
      return scope.runInAsyncScope(cb as (...a: unknown[]) => unknown, this, err, stmt);
    };
    return original.apply(this, args);
  };
}
