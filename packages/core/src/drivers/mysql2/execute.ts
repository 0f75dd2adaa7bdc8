import type { StatementRecorder } from '../../capture/types.js';
import { takeConnectionBegun } from '../pool-handoff.js';
import { sendExecute } from './send-execute.js';
import type { ConnectionState } from './state.js';
import type { AnyFunction, ConnectionLike } from './types.js';

/**
 * connection.execute(sql | {sql, values, ...}, values?, cb?): server-side prepared (COM_STMT_PREPARE,
 * cached per connection, then COM_STMT_EXECUTE). Recorded once, with the template and the values,
 * whatever mysql2 does underneath. pool.execute comes through here on the pooled connection.
 */
export function patchExecute(recorder: StatementRecorder, conn: ConnectionLike, state: ConnectionState): void {
  const original = conn.execute as AnyFunction;
  conn.execute = function execute(this: ConnectionLike, ...args: unknown[]): unknown {
    const [sql, values, cb] = args;
    // Mirrors BaseConnection#execute's argument handling.
    let text: unknown = sql;
    let params: unknown = typeof values === 'function' ? undefined : values;
    if (typeof sql === 'object' && sql !== null) {
      const o = sql as { sql?: unknown; values?: unknown };
      text = o.sql;
      params = typeof values === 'function' ? o.values : o.values || values;
    }
    const cbIndex = typeof values === 'function' ? 1 : typeof cb === 'function' ? 2 : -1;
    return sendExecute(recorder, original, this, args, { text, params, cbIndex, connection: conn, begun: takeConnectionBegun(conn, text, params) }, state);
  };
}
