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
  return runWithContext({ orm: scopeOrm(model, operation, weak) }, fn);
}

/**
 * One frozen scope object per model, operation and weakness, not one per call: statement-context.ts
 * reuses a statement's orm while its scope object is the same, and runWithContext does not walk an
 * object already frozen. Bounded: an app with endless model names starts over rather than grow.
 */
const scopes = new Map<string, OrmInfo>();
const MAX_SCOPES = 4096;

function scopeOrm(model: string | undefined, operation: string, weak: boolean): OrmInfo {
  const key = `${weak ? 'w' : 's'}${operation}\u0000${model ?? '\u0001'}`;
  let orm = scopes.get(key);
  if (orm === undefined) {
    if (scopes.size >= MAX_SCOPES) scopes.clear();
    orm = Object.freeze(model === undefined ? { name: ORM_NAME, operation } : { name: ORM_NAME, model, operation });
    if (weak) weakScopes.add(orm);
    scopes.set(key, orm);
  }
  return orm;
}

