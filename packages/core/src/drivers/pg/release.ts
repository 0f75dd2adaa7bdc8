import { QuerytrailError } from '../../errors.js';
import type { PgClientLike } from './types.js';

const kReleaseFilter = Symbol.for('querytrail.pg.releaseFilter/1');

type ReleaseFn = (err?: unknown) => unknown;

/**
 * pg-pool's pool.query (and most app code) releases a client with the query's error, which makes the
 * pool destroy the connection. A statement querytrail refused was never sent, so the connection is
 * healthy: the client's `release` (re-assigned by pg-pool on every checkout) is seen through an
 * accessor that drops a QuerytrailError before pg-pool sees it. One closure per client, none per checkout.
 */
export function installReleaseFilter(client: PgClientLike): void {
  const holder = client as PgClientLike & { [kReleaseFilter]?: true };
  if (holder[kReleaseFilter]) return;
  const own = Object.getOwnPropertyDescriptor(client, 'release');
  if (own !== undefined && !own.configurable) return;
  let current = own?.value as ReleaseFn | undefined;
  const filtered = function release(this: unknown, err?: unknown): unknown {
    return current!.call(this, err instanceof QuerytrailError ? undefined : err);
  };
  Object.defineProperty(client, 'release', {
    configurable: true,
    enumerable: true,
    get: () => (typeof current === 'function' ? filtered : current),
    set: (value: ReleaseFn | undefined) => {
      current = value;
    },
  });
  Object.defineProperty(holder, kReleaseFilter, { value: true });
}
