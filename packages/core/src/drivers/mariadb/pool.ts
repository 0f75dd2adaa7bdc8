import type { StatementRecorder } from '../../capture/types.js';
import { withCallerScope } from './caller-scope.js';
import { instrumentBaseConnection } from './connection.js';
import { isBaseConnection, isPromiseConnection } from './guards.js';
import { instrumentPromiseConnection } from './promise-connection.js';
import { isInstrumented, markInstrumented } from './state.js';
import type { AnyFunction, PromisePoolLike } from './types.js';

/**
 * Instruments a PoolPromise in place. Every connection is instrumented when the pool hands it out
 * ('acquire' carries the base Connection and is emitted just before the checkout callback runs), so
 * pool.query / execute / batch and pool.getConnection() statements are recorded once, on the
 * connection that sends them. pool.query / execute / batch are wrapped only to carry the caller's
 * async scope to that connection; connections are released by the driver as before, blocked or not.
 */
export function instrumentPool(recorder: StatementRecorder, pool: PromisePoolLike): void {
  if (isInstrumented(pool)) return;
  markInstrumented(pool);
  pool.prependListener('acquire', (conn: unknown) => {
    if (isBaseConnection(conn)) instrumentBaseConnection(recorder, conn);
  });
  // New connections announce themselves (db.connect) before their first checkout.
  pool.prependListener('connection', (cp: unknown) => {
    if (isPromiseConnection(cp)) instrumentPromiseConnection(recorder, cp);
  });
  for (const name of ['query', 'execute', 'batch'] as const) {
    const original = pool[name] as AnyFunction;
    pool[name] = function (this: PromisePoolLike, sql: unknown, values?: unknown): unknown {
      return original.call(this, withCallerScope(sql), values);
    };
  }
  const getConnection = pool.getConnection as (...args: unknown[]) => Promise<unknown>;
  pool.getConnection = function (this: PromisePoolLike, ...args: unknown[]): Promise<unknown> {
    return getConnection.apply(this, args).then((cp) => {
      // The base Connection is instrumented already ('acquire'); this adds queryStream on this wrapper.
      if (isPromiseConnection(cp)) instrumentPromiseConnection(recorder, cp);
      return cp;
    });
  };
}
