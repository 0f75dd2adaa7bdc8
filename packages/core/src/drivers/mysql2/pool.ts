import { AsyncResource } from 'node:async_hooks';
import type { StatementRecorder } from '../../capture/types.js';
import { instrumentConnection } from './connection.js';
import { holdPoolEnd } from './end-after-close.js';
import { isConnection } from './guards.js';
import { connectionState, isInstrumented, markInstrumented } from './state.js';
import { poolLevelDb } from '../pool-level-db.js';
import { type PoolBegun, takeCheckoutBegun, whileCheckedOut } from '../pool-handoff.js';
import { type PoolExecuteState, poolExecute } from './pool-execute.js';
import type { AnyFunction, PoolLike } from './types.js';

/** Checkout callbacks already bound (mysql2 re-enters getConnection with the same callback). */
const bound = new WeakSet<AnyFunction>();

/**
 * mysql2 hands a queued checkout to whoever releases a connection (process.nextTick in the releaser's
 * async context). Binding the callback where getConnection is called keeps the caller's context, and
 * the connection is instrumented before the caller sees it.
 */
function bindCheckout(recorder: StatementRecorder, cb: AnyFunction): AnyFunction {
  if (bound.has(cb)) return cb;
  const scope = new AsyncResource('querytrail.mysql2.getConnection');
  const wrapped = function (this: unknown, err: unknown, conn: unknown) {
    if (!err && isConnection(conn)) instrumentConnection(recorder, conn);
    return scope.runInAsyncScope(cb, this, err, conn);
  };
  bound.add(wrapped);
  return wrapped;
}

/** The checkout callback of a pool-begun statement: the connection carries it while mysql2 sends on it. */
function handOver(begun: PoolBegun, cb: AnyFunction): AnyFunction {
  return function (this: unknown, err: unknown, conn: unknown, ...rest: unknown[]) {
    if (err || typeof conn !== 'object' || conn === null) return cb.call(this, err, conn, ...rest);
    return whileCheckedOut(begun, conn, () => cb.call(this, err, conn, ...rest));
  };
}

/**
 * Instruments a Pool in place. pool.query / pool.execute are left alone: they check out through
 * `this.getConnection` (the instance property set here) and run the statement on the pooled
 * connection, which records it, once.
 */
export function instrumentPool(recorder: StatementRecorder, pool: PoolLike): void {
  if (isInstrumented(pool)) return;
  markInstrumented(pool);
  const getConnection = pool.getConnection;
  pool.getConnection = function (this: PoolLike, cb?: unknown, ...rest: unknown[]): unknown {
    // pool.execute checks out through here: the statement it carries goes with the connection.
    const begun = takeCheckoutBegun(this);
    if (typeof cb !== 'function') return getConnection.call(this, cb, ...rest);
    return getConnection.call(this, bindCheckout(recorder, begun === undefined ? (cb as AnyFunction) : handOver(begun, cb as AnyFunction)), ...rest);
  };
  // pool.execute begins statements before checkout in sync delivery (pool-execute.ts).
  const executeState: PoolExecuteState = { recorder, execute: pool.execute as AnyFunction, db: undefined };
  if (typeof pool.execute === 'function') {
    pool.execute = function (this: PoolLike, ...args: unknown[]): unknown {
      return poolExecute(executeState, this, args);
    };
  }
  const learnDb = (conn: object): void => {
    const s = connectionState(conn);
    if (executeState.db === undefined && s?.connected) executeState.db = poolLevelDb(s.db);
  };
  holdPoolEnd(pool);
  // New connections: instrumented (and db.connect recorded) before any 'connection' listener of the app runs.
  pool.prependListener('connection', (conn: unknown) => {
    if (isConnection(conn)) {
      instrumentConnection(recorder, conn);
      learnDb(conn);
    }
  });
  const all = pool._allConnections;
  if (all && typeof all.get === 'function') {
    for (let i = 0; i < all.length; i++) {
      const conn = all.get(i);
      if (isConnection(conn)) {
        instrumentConnection(recorder, conn);
        learnDb(conn);
      }
    }
  }
}
