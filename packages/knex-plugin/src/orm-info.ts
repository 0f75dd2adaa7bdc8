import type { OrmInfo } from '@querytrail/core';
import type { BuilderLike, CompiledQueryLike } from './types.js';

export const ORM_NAME = 'knex';

/** `users as u` → `users`; `{ u: 'users' }` → `users`; a subquery or raw table → undefined. */
function tableName(table: unknown): string | undefined {
  if (typeof table === 'string') {
    const name = table.trim().split(/\s+as\s+/i)[0]?.trim();
    return name === '' ? undefined : name;
  }
  if (table !== null && typeof table === 'object' && Object.getPrototypeOf(table) === Object.prototype) {
    const first = Object.values(table)[0];
    return typeof first === 'string' ? tableName(first) : undefined;
  }
  return undefined;
}

/** The table a builder works on, schema-qualified when `.withSchema()` named one. */
export function modelOf(builder: BuilderLike | undefined): string | undefined {
  if (!builder) return undefined;
  const single = builder._single;
  if (single) {
    const table = tableName(single.table);
    if (table === undefined) return undefined;
    return typeof single.schema === 'string' && !table.includes('.') ? `${single.schema}.${table}` : table;
  }
  // Schema builder: the first step's first argument is its table (createTable('users', ...)).
  const first = builder._sequence?.[0]?.args?.[0];
  return typeof first === 'string' ? first : undefined;
}

/** The builder method behind a compiled statement: select, first, insert, update, del, raw, createTable, ... */
export function operationOf(builder: BuilderLike | undefined, obj: CompiledQueryLike | undefined): string {
  if (typeof obj?.method === 'string') return obj.method;
  const step = builder?._sequence?.[0]?.method;
  if (typeof step === 'string') return step;
  if (typeof builder?._method === 'string') return builder._method;
  return 'raw';
}

/**
 * One frozen object per model and operation, not one per statement: the journal caches the JSON of
 * the orm member by the object's identity (core capture/line-fragments.ts), so the statements of a
 * builder type share it instead of serialising it each time. Bounded: an app with endless table
 * names starts over rather than grow.
 */
const orms = new Map<string, OrmInfo>();
const MAX_ORMS = 4096;

/** The context of a statement a builder runs. */
export function builderOrm(builder: BuilderLike | undefined, obj: CompiledQueryLike | undefined): OrmInfo {
  const model = modelOf(builder);
  const operation = operationOf(builder, obj);
  const key = model === undefined ? operation : `${operation}\u0000${model}`;
  let orm = orms.get(key);
  if (orm === undefined) {
    if (orms.size >= MAX_ORMS) orms.clear();
    orm = Object.freeze(model === undefined ? { name: ORM_NAME, operation } : { name: ORM_NAME, model, operation });
    orms.set(key, orm);
  }
  return orm;
}

/**
 * Transaction control statements knex sends itself (BEGIN;, COMMIT;, ROLLBACK, SAVEPOINT trx2;,
 * RELEASE SAVEPOINT trx2;, ROLLBACK TO SAVEPOINT trx2, SET TRANSACTION ...): named after their verb.
 */
export function transactionOrm(sql: string): OrmInfo {
  const words = sql.trim().replace(/;$/, '').toLowerCase().split(/\s+/);
  let operation = words[0] ?? 'raw';
  if (operation === 'rollback' && words[1] === 'to') operation = 'rollback to savepoint';
  else if (operation === 'set' && words[1] === 'transaction') operation = 'set transaction';
  return { name: ORM_NAME, operation };
}
