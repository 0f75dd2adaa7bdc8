import type { ConnectionLike, PoolClusterLike, PoolLike } from './types.js';

type Loose = Record<string, unknown> | null | undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A core Connection or PoolConnection (not a promise wrapper: those have no addCommand). */
export function isConnection(value: unknown): value is ConnectionLike {
  const v = value as Loose;
  return (
    isObject(v) &&
    typeof v.addCommand === 'function' &&
    typeof v.query === 'function' &&
    typeof v.execute === 'function' &&
    typeof v.prepare === 'function' &&
    isObject(v.config)
  );
}

export function isPool(value: unknown): value is PoolLike {
  const v = value as Loose;
  return (
    isObject(v) &&
    typeof v.getConnection === 'function' &&
    typeof v.query === 'function' &&
    isObject(v.config) &&
    isObject(v.config.connectionConfig)
  );
}

export function isPoolCluster(value: unknown): value is PoolClusterLike {
  const v = value as Loose;
  return isObject(v) && typeof v.of === 'function' && typeof v.add === 'function' && isObject(v._nodes);
}
