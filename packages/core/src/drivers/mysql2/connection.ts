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

function notify(recorder: StatementRecorder, type: 'db.connect' | 'db.disconnect', state: ConnectionState): void {
  try {
    recorder.connection(type, state.db);
  } catch (error) {
    warnRecorderFailure(error);
  }
}

/** db.connect now (the session is established), db.disconnect when its socket closes, whatever the cause. */
function announce(recorder: StatementRecorder, conn: ConnectionLike, state: ConnectionState): void {
  notify(recorder, 'db.connect', state);
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
