import { runInOrmScope } from './scope.js';
import type { TypeormState } from './state.js';

/** EntityManager methods whose statements carry `operation` = the method name. Repositories call these. */
const METHODS = [
  'find', 'findBy', 'findAndCount', 'findAndCountBy', 'findOne', 'findOneBy', 'findOneOrFail', 'findOneByOrFail',
  'findByIds', 'exists', 'existsBy', 'count', 'countBy', 'sum', 'average', 'minimum', 'maximum', 'preload',
  'save', 'remove', 'softRemove', 'recover', 'insert', 'upsert', 'update', 'updateAll', 'delete', 'deleteAll',
  'softDelete', 'restore', 'increment', 'decrement', 'clear', 'query', 'sql',
] as const;

const kWrapped = Symbol.for('querytrail.typeorm.entityManager');

type Method = (...args: unknown[]) => unknown;

/**
 * Wraps one EntityManager instance (the DataSource's, and each query runner's): its methods run in
 * an orm scope naming the entity (first argument: class, schema, name or entity) and the method.
 * `transaction` is a weak scope: the calls inside it name their own operation.
 */
export function wrapEntityManager<M extends object>(state: TypeormState, manager: M): M {
  const m = manager as unknown as Record<string | symbol, unknown>;
  if (!state.context || m[kWrapped]) return manager;
  for (const name of METHODS) {
    const original = m[name];
    if (typeof original !== 'function') continue;
    m[name] = function (this: unknown, ...args: unknown[]) {
      const model = name === 'query' || name === 'sql' ? undefined : state.metadata.entityOfTarget(args[0])?.name;
      return runInOrmScope(model, name, () => (original as Method).apply(this, args));
    };
  }
  const transaction = m.transaction;
  if (typeof transaction === 'function') {
    m.transaction = function (this: unknown, ...args: unknown[]) {
      return runInOrmScope(undefined, 'transaction', () => (transaction as Method).apply(this, args), true);
    };
  }
  Object.defineProperty(m, kWrapped, { value: true });
  return manager;
}
