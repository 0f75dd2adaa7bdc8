import type { OpenIntrospection, StatementRecorder } from '../../capture/types.js';
import { recordAndSend } from './begin.js';
import { callerScopeOf } from './caller-scope.js';
import { introspectionOpener } from './introspection.js';
import { instrumentPrepared } from './prepared.js';
import { type ConnectionState, createConnectionState, markInstrumented, stateOf } from './state.js';
import type { BaseConnectionLike, CmdParam, PreparedLike, Reject, Resolve } from './types.js';
import { warnRecorderFailure } from './warn.js';

type Method = (this: BaseConnectionLike, cmdParam: CmdParam, resolve: Resolve, reject: Reject) => unknown;

const SERVER_STATUS_IN_TRANS = 1;

function notify(recorder: StatementRecorder, type: 'db.connect' | 'db.disconnect', state: ConnectionState, openIntrospection?: OpenIntrospection): void {
  try {
    recorder.connection(type, state.db, openIntrospection);
  } catch (error) {
    warnRecorderFailure(error, { recorder, operation: 'recorder.connection' });
  }
}

/**
 * Wraps one (cmdParam, resolve, reject) method: the statement is begun in the caller's scope (the
 * pool's tag, else the current one), then sent through the original method.
 */
function wrap(
  recorder: StatementRecorder,
  conn: BaseConnectionLike,
  state: ConnectionState,
  name: 'query' | 'prepareExecute' | 'batch',
  onSend?: (cmdParam: CmdParam) => void,
): void {
  const original = conn[name] as Method;
  conn[name] = function (this: BaseConnectionLike, cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown {
    // Without sql the driver rejects at once and sends nothing.
    if (!cmdParam?.sql) return original.call(this, cmdParam, resolve, reject);
    const run = () => {
      onSend?.(cmdParam);
      recordAndSend(recorder, state, conn, { text: cmdParam.sql, values: cmdParam.values }, resolve, reject, (ok, ko) =>
        original.call(this, cmdParam, ok, ko),
      );
    };
    const scope = callerScopeOf(cmdParam);
    if (scope) scope.runInAsyncScope(run);
    else run();
    return undefined;
  } as BaseConnectionLike[typeof name];
}

/**
 * Instruments one base Connection in place (own properties shadow the class methods): query
 * (text protocol, beginTransaction, pool.query), prepareExecute (execute, pool.execute), batch,
 * prepare (each execute of the statement), changeTransaction (COMMIT / ROLLBACK, when sent).
 * Idempotent. `lifecycle` false: querytrail's own introspection connection, whose statements are
 * recorded but which is not announced (db.connect / db.disconnect).
 */
export function instrumentBaseConnection(recorder: StatementRecorder, conn: BaseConnectionLike, lifecycle = true): ConnectionState {
  const existing = stateOf(conn);
  if (existing) return existing;
  const state = createConnectionState(conn);
  markInstrumented(conn, state);

  // batch prepares through this.prepare and may execute row by row: its own record is the only one.
  const batchParams = new WeakSet<CmdParam>();
  wrap(recorder, conn, state, 'query');
  wrap(recorder, conn, state, 'prepareExecute');
  wrap(recorder, conn, state, 'batch', (p) => batchParams.add(p));

  const prepare = conn.prepare as Method;
  conn.prepare = function (this: BaseConnectionLike, cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown {
    if (batchParams.has(cmdParam)) return prepare.call(this, cmdParam, resolve, reject);
    return prepare.call(
      this,
      cmdParam,
      (stmt: unknown) => {
        if (typeof stmt === 'object' && stmt !== null) instrumentPrepared(recorder, state, conn, stmt as PreparedLike);
        resolve(stmt);
      },
      reject,
    );
  };

  const changeTransaction = conn.changeTransaction as Method;
  conn.changeTransaction = function (this: BaseConnectionLike, cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown {
    // Mirrors the driver: COMMIT / ROLLBACK is only sent when a command is in flight or a transaction is open.
    const sends = this.receiveQueue?.peekFront() || ((this.info?.status ?? 0) & SERVER_STATUS_IN_TRANS) !== 0;
    if (!sends || !cmdParam?.sql) return changeTransaction.call(this, cmdParam, resolve, reject);
    recordAndSend(recorder, state, conn, { text: cmdParam.sql, values: undefined }, resolve, reject, (ok, ko) =>
      changeTransaction.call(this, cmdParam, ok, ko),
    );
    return undefined;
  };

  if (!lifecycle) return state;
  // With db.connect goes how to open a connection like this one: the auditor reads the table catalog
  // there, never on this connection, which the app is about to use.
  notify(recorder, 'db.connect', state, introspectionOpener(conn, (own) => instrumentBaseConnection(recorder, own, false)));
  const socket = conn.socket;
  if (socket && typeof socket.once === 'function') socket.once('close', () => notify(recorder, 'db.disconnect', state));
  return state;
}
