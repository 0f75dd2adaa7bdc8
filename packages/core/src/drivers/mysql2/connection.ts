import type { StatementRecorder } from '../../capture/types.js';
import { patchExecute } from './execute.js';
import { patchPrepare } from './prepare.js';
import { patchQuery } from './query.js';
import {
  type ConnectionState,
  completeConnectionState,
  createConnectionState,
  isInstrumented,
  markInstrumented,
} from './state.js';
import type { ConnectionLike } from './types.js';
import { warnRecorderFailure } from './warn.js';

function notify(recorder: StatementRecorder, type: 'db.connect' | 'db.disconnect', state: ConnectionState, conn?: ConnectionLike): void {
  try {
    // On connect, the auditor may read the table catalog through this (fresh, idle) connection.
    if (conn) recorder.connection(type, state.db, (sql) => catalogQuery(conn, sql));
    else recorder.connection(type, state.db);
  } catch (error) {
    warnRecorderFailure(error);
  }
}

/** db.connect now (the session is established), db.disconnect when its socket closes, whatever the cause. */
function announce(recorder: StatementRecorder, conn: ConnectionLike, state: ConnectionState): void {
  reportStringLexing(recorder, conn);
  notify(recorder, 'db.connect', state, conn);
  conn.stream?.once('close', () => notify(recorder, 'db.disconnect', state));
}

/**
 * Instruments one core Connection / PoolConnection in place (own properties shadow the prototype's
 * query, execute and prepare). Idempotent.
 */
export function instrumentConnection(recorder: StatementRecorder, conn: ConnectionLike): void {
  if (isInstrumented(conn)) return;
  const state = createConnectionState(conn);
  markInstrumented(conn, state);
  patchQuery(recorder, conn, state);
  patchExecute(recorder, conn, state);
  patchPrepare(recorder, conn, state);
  if (state.connected) {
    announce(recorder, conn, state);
  } else {
    conn.once('connect', () => {
      completeConnectionState(state, conn);
      announce(recorder, conn, state);
    });
  }
}

/** SERVER_STATUS_NO_BACKSLASH_ESCAPES: the session's sql_mode has NO_BACKSLASH_ESCAPES. */
const NO_BACKSLASH_ESCAPES = 512;

/**
 * The handshake's status flags say how the session starts out lexing strings. (Later changes come with
 * OK packets that mysql2 does not hand over for every statement: after a statement that may change
 * sql_mode the auditor analyses texts with a backslash both ways.)
 */
function reportStringLexing(recorder: StatementRecorder, conn: ConnectionLike): void {
  const flags = (conn as { _handshakePacket?: { statusFlags?: unknown } | null })._handshakePacket?.statusFlags;
  if (recorder.sessionSetting === undefined || typeof flags !== 'number') return;
  try {
    recorder.sessionSetting(conn, 'no_backslash_escapes', (flags & NO_BACKSLASH_ESCAPES) !== 0);
  } catch (error) {
    warnRecorderFailure(error);
  }
}

/** Runs one introspection query on `conn` (instrumented: it is recorded like any other). */
function catalogQuery(conn: ConnectionLike, sql: string): Promise<Array<Record<string, unknown>>> {
  const query = conn.query as unknown as (sql: string, cb: (err: Error | null, rows: unknown) => void) => unknown;
  return new Promise((resolve, reject) => {
    query.call(conn, sql, (err, rows) => (err ? reject(err) : resolve(rows as Array<Record<string, unknown>>)));
  });
}
