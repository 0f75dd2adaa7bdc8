import type { OpenIntrospection, StatementRecorder } from '../../capture/types.js';
import { holdConnectionEnd } from './end-after-close.js';
import { patchExecute } from './execute.js';
import { introspectionOpener } from './introspection.js';
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

function notify(recorder: StatementRecorder, type: 'db.connect' | 'db.disconnect', state: ConnectionState, openIntrospection?: OpenIntrospection): void {
  try {
    recorder.connection(type, state.db, openIntrospection);
  } catch (error) {
    warnRecorderFailure(error, { recorder, operation: 'recorder.connection' });
  }
}

/**
 * db.connect now (the session is established), db.disconnect when its socket closes, whatever the cause.
 * With db.connect goes how to open a connection like this one: the auditor reads the table catalog
 * there, never on this connection, which the app is about to use.
 */
function announce(recorder: StatementRecorder, conn: ConnectionLike, state: ConnectionState): void {
  const openIntrospection = introspectionOpener(conn, (own) => instrumentConnection(recorder, own, false));
  notify(recorder, 'db.connect', state, openIntrospection);
  conn.stream?.once('close', () => notify(recorder, 'db.disconnect', state));
}

/**
 * Instruments one core Connection / PoolConnection in place (own properties shadow the prototype's
 * query, execute and prepare). Idempotent. `lifecycle` false: querytrail's own introspection
 * connection, whose statements are recorded but which is not announced (db.connect / db.disconnect).
 */
export function instrumentConnection(recorder: StatementRecorder, conn: ConnectionLike, lifecycle = true): void {
  if (isInstrumented(conn)) return;
  const state = createConnectionState(conn);
  markInstrumented(conn, state);
  patchQuery(recorder, conn, state);
  patchExecute(recorder, conn, state);
  patchPrepare(recorder, conn, state);
  if (lifecycle) holdConnectionEnd(conn);
  const connected = (): void => {
    reportStringLexing(recorder, conn);
    if (lifecycle) announce(recorder, conn, state);
  };
  if (state.connected) {
    connected();
  } else {
    conn.once('connect', () => {
      completeConnectionState(state, conn);
      connected();
    });
  }
}

/** SERVER_STATUS_NO_BACKSLASH_ESCAPES: the session's sql_mode has NO_BACKSLASH_ESCAPES. */
const NO_BACKSLASH_ESCAPES = 512;


/**
 * The handshake's status flags say how the session starts out lexing strings; later, the OK packet
 * that ends a statement without rows (a SET among them) says it again (statusReporter). A statement
 * ending in rows hands over no OK packet: until the next one, after a statement that may change
 * sql_mode, the auditor analyses texts with a backslash both ways.
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
