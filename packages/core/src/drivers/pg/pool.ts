import { wrapPoolEnd } from './pool-end.js';
import { bindToCaller } from '../bind-to-caller.js';
import { type PoolBegun, takeCheckoutBegun, whileCheckedOut } from '../pool-handoff.js';
import type { StatementRecorder } from '../../capture/types.js';
import { instrumentClient, reportConnection } from './client.js';
import { clientState } from './client-state.js';
import { poolLevelDb } from '../pool-level-db.js';
import { type PoolQueryState, poolQuery } from './pool-query.js';
import { poolIntrospection } from './introspection.js';
import { installReleaseFilter } from './release.js';
import type { PgClientLike, PgConnectFn, PgPoolLike } from './types.js';
import { reportRecorderFailure } from './warn.js';

const kPoolState = Symbol.for('querytrail.pg.pool/1');

interface PoolState extends PoolQueryState {
  readonly connect: PgConnectFn;
}

type InstrumentedPool = PgPoolLike & { [kPoolState]?: PoolState };

/**
 * Instruments a pg Pool in place (idempotent):
 * - clients already in it (idle or checked out) and every client it creates later get an
 *   instrumented query; pool.query goes through a checked-out client's query, so it is recorded once;
 * - connect() binds its callback to the caller's async context: pg-pool hands a queued checkout to
 *   whoever releases a client, and its own query() calls `this.connect(...)`, i.e. this one;
 * - db.connect / db.disconnect from the pool's 'connect' / 'remove' events (the catalog is read on a
 *   client of querytrail's own, outside the pool: introspection.ts);
 * - end() settles once its clients have closed, so their db.disconnect is recorded first (pool-end.ts).
 */
export function instrumentPool<T extends PgPoolLike>(recorder: StatementRecorder, pool: T): T {
  const p = pool as InstrumentedPool;
  if (p[kPoolState] !== undefined) return pool;
  const state: PoolState = { recorder, connect: pool.connect, query: pool.query as PoolState['query'], db: undefined };
  Object.defineProperty(p, kPoolState, { value: state, configurable: true });

  pool.connect = instrumentedConnect;
  pool.query = instrumentedPoolQuery;
  // The catalog is read on a client of querytrail's own, made like the pool's (before the wrapper below).
  const openIntrospection = poolIntrospection(recorder, pool, pool.Client);
  wrapClientConstructor(recorder, pool);
  if (Array.isArray(pool._clients)) {
    for (const client of pool._clients as PgClientLike[]) {
      adoptClient(recorder, client);
      learnDb(state, client);
    }
  }
  pool.on('connect', (client: PgClientLike) => {
    try {
      adoptClient(recorder, client); // no-op when the constructor wrapper already did it
    } catch (err) {
      reportRecorderFailure(err, 'instrument pool client');
    }
    learnDb(state, client);
    reportConnection(client, 'db.connect', openIntrospection);
  });
  pool.on('remove', (client: PgClientLike) => reportConnection(client, 'db.disconnect'));
  wrapPoolEnd(pool);
  return pool;
}

function adoptClient(recorder: StatementRecorder, client: PgClientLike): void {
  instrumentClient(recorder, client);
  installReleaseFilter(client);
}

function instrumentedPoolQuery(this: PgPoolLike, text?: unknown, values?: unknown, callback?: unknown): unknown {
  return poolQuery((this as InstrumentedPool)[kPoolState]!, this, text, values, callback);
}

/** The database of the pool, from a connected client (what pool-begun statements record). */
function learnDb(state: PoolState, client: PgClientLike): void {
  if (state.db !== undefined || typeof client.processID !== 'number') return;
  const cs = clientState(client);
  if (cs !== undefined) state.db = poolLevelDb(cs.db.get());
}

function instrumentedConnect(this: PgPoolLike, callback?: unknown): unknown {
  const connect = (this as InstrumentedPool)[kPoolState]!.connect;
  // pg-pool's own query() checks out through here: the statement it carries goes with the client.
  const begun = takeCheckoutBegun(this);
  if (typeof callback === 'function') {
    const cb = callback as (...args: unknown[]) => unknown;
    return connect.call(this, bindToCaller(begun === undefined ? cb : handOver(begun, cb)));
  }
  return connect.call(this);
}

/** The checkout callback of a pool-begun statement: the client carries it while pg-pool sends on it. */
function handOver(begun: PoolBegun, callback: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return function (this: unknown, err: unknown, client: unknown, ...rest: unknown[]) {
    if (err || typeof client !== 'object' || client === null) return callback.call(this, err, client, ...rest);
    return whileCheckedOut(begun, client, () => callback.call(this, err, client, ...rest));
  };
}

/**
 * pg-pool creates clients with `new this.Client(options)`. Instrumenting them at construction (not
 * only at the 'connect' event) also covers statements an `onConnect` hook sends before that event.
 * A construct-only Proxy keeps statics, prototype and `instanceof`.
 */
function wrapClientConstructor(recorder: StatementRecorder, pool: PgPoolLike): void {
  const Ctor = pool.Client;
  if (typeof Ctor !== 'function') return;
  pool.Client = new Proxy(Ctor, {
    construct(target, args, newTarget) {
      const client = Reflect.construct(target, args, newTarget === pool.Client ? target : newTarget) as PgClientLike;
      try {
        adoptClient(recorder, client);
      } catch (err) {
        reportRecorderFailure(err, 'instrument pool client');
      }
      return client as object;
    },
  });
}
