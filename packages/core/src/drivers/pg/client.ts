import type { OpenIntrospection, StatementRecorder } from '../../capture/types.js';
import { type ClientState, clientState, createClientState, type InstrumentedClient, kClientState } from './client-state.js';
import { instrumentedQuery } from './query.js';
import type { PgClientLike } from './types.js';
import { watchStringLexing } from './session-settings.js';
import { reportRecorderFailure } from './warn.js';

/**
 * Instruments one pg Client in place (idempotent). `standalone`: a client the app connects itself
 * emits db.connect / db.disconnect from its own 'connect' / 'end' events, and names how to open a
 * connection like it for the catalog. Pool clients are reported by their pool; querytrail's own
 * introspection clients by nobody (their statements are recorded all the same).
 */
export function instrumentClient(
  recorder: StatementRecorder,
  client: PgClientLike,
  standalone?: { openIntrospection: OpenIntrospection },
): ClientState {
  const existing = clientState(client);
  if (existing !== undefined) return existing;
  const state = createClientState(recorder, client);
  Object.defineProperty(client as InstrumentedClient, kClientState, { value: state, configurable: true });
  client.query = instrumentedQuery;
  watchStringLexing(recorder, client);
  if (standalone) {
    const { openIntrospection } = standalone;
    client.on('connect', () => reportConnection(client, 'db.connect', openIntrospection));
    client.on('end', () => reportConnection(client, 'db.disconnect'));
  }
  return state;
}

/**
 * db.connect / db.disconnect for `client`; never throws into the driver's event loop. With db.connect,
 * `openIntrospection` lets the auditor read the table catalog on a connection of its own: never on
 * this one, which the app (or the pool that hands it out) is about to use.
 */
export function reportConnection(client: PgClientLike, type: 'db.connect' | 'db.disconnect', openIntrospection?: OpenIntrospection): void {
  const state = clientState(client);
  if (state === undefined) return;
  try {
    state.recorder.connection(type, state.db.get(), type === 'db.connect' ? openIntrospection : undefined);
  } catch (err) {
    reportRecorderFailure(err, 'recorder.connection', { recorder: state.recorder });
  }
}
