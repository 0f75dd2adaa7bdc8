import type { PgClientLike, PgPoolLike } from './types.js';

/** How long pool.end() waits past pg-pool for its clients' connections to close. */
const CLOSE_WAIT_MS = 2000;

type EndFn = (this: PgPoolLike, callback?: unknown) => unknown;

/**
 * pg-pool's end() settles as soon as its client list is empty, which is before those clients have
 * closed: each one's 'remove' event (our db.disconnect record) comes a few milliseconds later. An app
 * that does `await pool.end(); await auditor.close()` would close the journal first and lose every
 * db.disconnect. So end() is wrapped to settle once the clients open when it was called have closed,
 * or after CLOSE_WAIT_MS at most: a connection that hangs on close never holds the app's shutdown.
 */
export function wrapPoolEnd(pool: PgPoolLike): void {
  const open = new Set<PgClientLike>();
  if (Array.isArray(pool._clients)) for (const c of pool._clients as PgClientLike[]) open.add(c);
  let drained: (() => void) | undefined;
  pool.on('connect', (client: PgClientLike) => open.add(client));
  pool.on('remove', (client: PgClientLike) => {
    open.delete(client);
    if (open.size === 0) drained?.();
  });
  const closed = (): Promise<void> =>
    open.size === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          // Not unref'd: a client that never closes (its connect failed without a 'remove') must still
          // let end() settle after the bound, not let the process exit under the app's shutdown.
          const timer = setTimeout(resolve, CLOSE_WAIT_MS);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });

  const end = (pool as PgPoolLike & { end?: EndFn }).end;
  if (typeof end !== 'function') return;
  (pool as PgPoolLike & { end: EndFn }).end = function instrumentedEnd(this: PgPoolLike, callback?: unknown): unknown {
    const ended = end.call(this) as Promise<void>;
    const settled = ended.then(closed);
    if (typeof callback !== 'function') return settled;
    // On a later tick, as pg-pool would: an exception thrown by the callback stays uncaught, not a rejection nobody handles.
    settled.then(
      () => process.nextTick(callback as (err?: unknown) => void),
      (err: unknown) => process.nextTick(callback as (err?: unknown) => void, err),
    );
    return undefined;
  };
}
