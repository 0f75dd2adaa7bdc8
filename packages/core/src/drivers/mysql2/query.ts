import { statusReporter } from './ok-status.js';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import type { StatementRecorder } from '../../capture/types.js';
import { beginStatement, fail } from './begin.js';
import { dispatch } from './dispatch.js';
import { refuse } from './refuse.js';
import type { ConnectionState } from './state.js';
import { trackEmitter, wrapCallback } from './track.js';
import type { AnyFunction, CommandLike, ConnectionClassLike, ConnectionLike } from './types.js';
import { warnRecorderFailure } from './warn.js';

/**
 * connection.query(sql | {sql, values, ...}, values?, cb?) and connection.query(QueryCommand) (what
 * pool.query, pool-cluster query and the transaction helpers use). The command is built first (as
 * mysql2 does) so the template text and values are captured before mysql2 interpolates them, and so
 * the wrapper always owns the object it returns.
 */
export function patchQuery(recorder: StatementRecorder, conn: ConnectionLike, state: ConnectionState): void {
  const original = conn.query as AnyFunction;
  const createQuery = (conn.constructor as ConnectionClassLike).createQuery;
  if (typeof createQuery !== 'function') {
    warnRecorderFailure(new Error('connection.query not instrumented: this mysql2 version has no Connection.createQuery'));
    return;
  }
  // Once per connection: the OK-packet status reporter for this session.
  const onStatus = statusReporter(recorder, conn);
  conn.query = function query(this: ConnectionLike, sql: unknown, values?: unknown, cb?: unknown): unknown {
    const cmd: CommandLike =
      sql instanceof EventEmitter ? (sql as CommandLike) : createQuery.call(conn.constructor, sql, values, cb, this.config);
    const scope = new AsyncResource('querytrail.mysql2.query');
    let handle: ReturnType<typeof beginStatement>;
    try {
      handle = beginStatement(recorder, cmd.sql, cmd.values, state.db, conn);
    } catch (blocked) {
      refuse(cmd, cmd.onResult, blocked, scope);
      return cmd;
    }
    if (typeof cmd.onResult === 'function') cmd.onResult = wrapCallback(cmd.onResult, handle, scope, onStatus);
    else trackEmitter(cmd, handle, scope, onStatus);
    try {
      return dispatch(
        state.sends,
        handle,
        () => original.call(this, cmd) as CommandLike,
        (error) => refuse(cmd, cmd.onResult, error, scope),
        cmd,
      );
    } catch (error) {
      fail(handle, error);
      throw error;
    }
  };
}
