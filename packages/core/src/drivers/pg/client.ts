import type { StatementRecorder } from '../../capture/types.js';
import { type ClientState, clientState, createClientState, type InstrumentedClient, kClientState } from './client-state.js';
import { instrumentedQuery } from './query.js';
import type { PgClientLike } from './types.js';
import { watchStringLexing } from './session-settings.js';
import { reportRecorderFailure } from './warn.js';

/**
 * Instruments one pg Client in place (idempotent). `lifecycle`: emit db.connect / db.disconnect from
 * the client's own 'connect' / 'end' events (standalone clients; a pool reports its clients itself).
 */
export function instrumentClient(recorder: StatementRecorder, client: PgClientLike, lifecycle: boolean): ClientState {
  const existing = clientState(client);
  if (existing !== undefined) return existing;
  const state = createClientState(recorder, client);
  Object.defineProperty(client as InstrumentedClient, kClientState, { value: state, configurable: true });
  client.query = instrumentedQuery;
  watchStringLexing(recorder, client);
  if (lifecycle) {
    client.on('connect', onClientConnect);
    client.on('end', onClientEnd);
  }
  return state;
}

/** db.connect / db.disconnect for `client`; never throws into the driver's event loop. */
export function reportConnection(client: PgClientLike, type: 'db.connect' | 'db.disconnect'): void {
  const state = clientState(client);
  if (state === undefined) return;
  try {
    // On connect, the auditor may read the table catalog through this (fresh, idle) connection.
    if (type === 'db.connect') state.recorder.connection(type, state.db.get(), (sql) => catalogQuery(client, sql));
    else state.recorder.connection(type, state.db.get());
  } catch (err) {
    reportRecorderFailure(err, 'recorder.connection');
  }
}

function onClientConnect(this: PgClientLike): void {
  reportConnection(this, 'db.connect');
}

function onClientEnd(this: PgClientLike): void {
  reportConnection(this, 'db.disconnect');
}

/** Runs one introspection query on `client` (instrumented: it is recorded like any other). */
function catalogQuery(client: PgClientLike, sql: string): Promise<Array<Record<string, unknown>>> {
  const q = client.query as unknown as (text: string) => Promise<{ rows: Array<Record<string, unknown>> }>;
  return q.call(client, sql).then((r) => r.rows);
}
