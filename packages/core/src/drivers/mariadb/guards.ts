import type { BaseConnectionLike, PromiseConnectionLike, PromisePoolLike } from './types.js';

type Loose = Record<string, unknown> | null | undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isBaseConnection(value: unknown): value is BaseConnectionLike {
  const v = value as Loose;
  return (
    isObject(v) &&
    typeof v.prepareExecute === 'function' &&
    typeof v.changeTransaction === 'function' &&
    typeof v.batch === 'function' &&
    typeof v.query === 'function' &&
    isObject(v.opts)
  );
}

export function isPromiseConnection(value: unknown): value is PromiseConnectionLike {
  const v = value as Loose;
  return (
    isObject(v) &&
    typeof v.queryStream === 'function' &&
    typeof v.beginTransaction === 'function' &&
    typeof v.execute === 'function' &&
    typeof v.batch === 'function' &&
    typeof v.on === 'function' &&
    typeof v.off === 'function'
  );
}

export function isPromisePool(value: unknown): value is PromisePoolLike {
  const v = value as Loose;
  return (
    isObject(v) &&
    typeof v.getConnection === 'function' &&
    typeof v.totalConnections === 'function' &&
    typeof v.batch === 'function' &&
    typeof v.prependListener === 'function'
  );
}
