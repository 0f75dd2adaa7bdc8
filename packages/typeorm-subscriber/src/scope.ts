import { currentContext, type OrmInfo, runWithContext } from '@querytrail/core';

export const ORM_NAME = 'typeorm';

/**
 * Scopes that inner calls may override: a transaction's callback runs repository and query builder
 * calls whose own operation is the better description of their statements.
 */
const weakKey = Symbol.for('querytrail.typeorm.weakScopes/1');
const weakHolder = globalThis as { [weakKey]?: WeakSet<OrmInfo> };
const weakScopes: WeakSet<OrmInfo> = weakHolder[weakKey] ?? new WeakSet<OrmInfo>();
weakHolder[weakKey] = weakScopes;

/**
 * Runs `fn` with `{ orm: { name: 'typeorm', model, operation } }` in the querytrail context (run(),
 * never enterWith()). The outermost TypeORM call names the operation: `repository.find()` uses a query
 * builder internally, and its statements are the find's. A weak scope (transaction) yields to inner calls.
 */
export function runInOrmScope<R>(model: string | undefined, operation: string, fn: () => R, weak = false): R {
  const outer = currentContext()?.orm;
  if (outer?.name === ORM_NAME && !weakScopes.has(outer)) return fn();
  const orm: OrmInfo = model === undefined ? { name: ORM_NAME, operation } : { name: ORM_NAME, model, operation };
  if (weak) weakScopes.add(orm);
  return runWithContext({ orm }, fn);
}

