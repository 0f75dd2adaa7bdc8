import type { EventEmitter } from 'node:events';
import { connectionState } from './state.js';
import type { AnyFunction, ConnectionLike, PoolLike } from './types.js';

/** How long end() waits past mysql2 for the sockets to close. */
const CLOSE_WAIT_MS = 2000;

/**
 * mysql2 calls end()'s callback (and resolves mysql2/promise's end()) when its QUIT command starts,
 * before the packet is even written: the socket closes, and db.disconnect is recorded, after. An app
 * that does `await pool.end(); await auditor.close()` would close the journal first and lose every
 * db.disconnect. So the callback is held until the sockets open at the call have closed, or for
 * CLOSE_WAIT_MS at most: a socket that hangs on close never holds the app's shutdown.
 */
function whenClosed(streams: readonly (EventEmitter | undefined)[], done: () => void): void {
  const open = streams.filter((s): s is EventEmitter => s !== undefined && (s as { closed?: boolean }).closed !== true);
  if (open.length === 0) {
    done();
    return;
  }
  let left = open.length;
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    clearTimeout(timer);
    done();
  };
  const timer = setTimeout(finish, CLOSE_WAIT_MS);
  timer.unref();
  for (const s of open) {
    s.once('close', () => {
      left -= 1;
      if (left === 0) finish();
    });
  }
}

/**
 * A standalone Connection's end(): queued behind statements still waiting for their attempt record
 * (sync delivery), as mysql2 itself would queue QUIT behind them, so `conn.query(sql, cb); conn.end()`
 * runs the query; and its callback called once the socket has closed. (A PoolConnection's end()
 * releases it: left alone.)
 */
export function holdConnectionEnd(conn: ConnectionLike): void {
  const c = conn as ConnectionLike & { end?: AnyFunction; release?: unknown };
  if (typeof c.end !== 'function' || typeof c.release === 'function') return;
  const end = c.end;
  c.end = function (this: ConnectionLike, callback?: unknown, ...rest: unknown[]): unknown {
    const stream = this.stream;
    const quit = () =>
      typeof callback !== 'function'
        ? end.call(this, callback, ...rest)
        : end.call(
            this,
            function (this: unknown, ...args: unknown[]) {
              whenClosed([stream], () => (callback as AnyFunction).apply(this, args));
            },
            ...rest,
          );
    const sends = connectionState(this)?.sends;
    if (sends === undefined || sends.empty) return quit();
    sends.add(undefined, quit, () => undefined);
    return undefined;
  };
}

/** Pool.end(cb) (also behind mysql2/promise's pool.end()) calls back once its connections' sockets have closed. */
export function holdPoolEnd(pool: PoolLike): void {
  const p = pool as PoolLike & { end?: AnyFunction };
  if (typeof p.end !== 'function') return;
  const end = p.end;
  p.end = function (this: PoolLike, callback?: unknown, ...rest: unknown[]): unknown {
    if (typeof callback !== 'function') return end.call(this, callback, ...rest);
    const streams: (EventEmitter | undefined)[] = [];
    const all = this._allConnections;
    if (all && typeof all.get === 'function') for (let i = 0; i < all.length; i++) streams.push(all.get(i)?.stream);
    return end.call(
      this,
      function (this: unknown, ...args: unknown[]) {
        whenClosed(streams, () => (callback as AnyFunction).apply(this, args));
      },
      ...rest,
    );
  };
}
