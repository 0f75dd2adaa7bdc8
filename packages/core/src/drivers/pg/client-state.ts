import type { StatementRecorder } from '../../capture/types.js';
import { DbInfoCache } from './db-info.js';
import { SendQueue } from '../send-queue.js';
import { PreparedStatements } from './statement.js';
import type { PgClientLike, PgQueryFn } from './types.js';
import { reportRecorderFailure } from './warn.js';

/** Per-client instrumentation state, on the instance under a registered symbol (one per process). */
export const kClientState = Symbol.for('querytrail.pg.client/1');

export interface ClientState {
  readonly recorder: StatementRecorder;
  /** The client's query before instrumentation (usually the prototype's). */
  readonly query: PgQueryFn;
  readonly db: DbInfoCache;
  readonly prepared: PreparedStatements;
  /** Statements admitted but waiting for their `ready` (sync delivery), in call order. */
  readonly sends: SendQueue;
}

export type InstrumentedClient = PgClientLike & { [kClientState]?: ClientState };

export function clientState(client: PgClientLike): ClientState | undefined {
  return (client as InstrumentedClient)[kClientState];
}

export function createClientState(recorder: StatementRecorder, client: PgClientLike): ClientState {
  return {
    recorder,
    query: client.query,
    db: new DbInfoCache(client),
    prepared: new PreparedStatements(() => client.connection),
    sends: new SendQueue(reportDeferredSendFailure),
  };
}

function reportDeferredSendFailure(err: unknown): void {
  reportRecorderFailure(err, 'deferred send');
}
