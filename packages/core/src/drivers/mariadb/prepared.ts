import type { StatementRecorder } from '../../capture/types.js';
import { recordAndSend } from './begin.js';
import { isInstrumented, markInstrumented, type ConnectionState } from './state.js';
import type { PreparedLike, Reject, Resolve } from './types.js';

/**
 * prepare(sql) then statement.execute(values, opts?, cb?): each execute is one statement, recorded
 * with the prepared text and `prepared_name` = the server statement id. Preparing sends nothing
 * that runs, so it is not an event by itself.
 */
export function instrumentPrepared(recorder: StatementRecorder, state: ConnectionState, conn: object, stmt: PreparedLike): void {
  if (isInstrumented(stmt)) return;
  markInstrumented(stmt);
  const original = stmt.execute;
  stmt.execute = function execute(this: PreparedLike, values?: unknown, opts?: unknown, cb?: unknown, stack?: unknown): unknown {
    if (this.isClose()) return original.call(this, values, opts, cb, stack); // the driver refuses it, nothing is sent
    const callback = (typeof opts === 'function' ? opts : cb) as ((err: unknown, res?: unknown, meta?: unknown) => void) | undefined;
    const options = typeof opts === 'function' ? undefined : opts;
    const statement = { text: this.query, values, preparedName: String(this.id) };
    const send = (ok: Resolve, ko: Reject) =>
      (original.call(this, values, options, undefined, stack) as Promise<unknown>).then(ok, ko);
    if (typeof callback === 'function') {
      recordAndSend(recorder, state, conn, statement, (res) => callback(null, res, null), (err) => callback(err), send);
      return undefined;
    }
    return new Promise((resolve, reject) => recordAndSend(recorder, state, conn, statement, resolve, reject, send));
  };
}
