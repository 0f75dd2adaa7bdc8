import { runInOrmScope } from './scope.js';
import { ownerOf } from './query-builder.js';
import { stateOf, type TypeormState } from './state.js';

/** EntityManager methods whose statements carry `operation` = the method name. Repositories call these. */
const METHODS = [
  'find', 'findBy', 'findAndCount', 'findAndCountBy', 'findOne', 'findOneBy', 'findOneOrFail', 'findOneByOrFail',
  'findByIds', 'exists', 'existsBy', 'count', 'countBy', 'sum', 'average', 'minimum', 'maximum', 'preload',
  'save', 'remove', 'softRemove', 'recover', 'insert', 'upsert', 'update', 'updateAll', 'delete', 'deleteAll',
  'softDelete', 'restore', 'increment', 'decrement', 'clear', 'query', 'sql',
] as const;

const kPatched = Symbol.for('querytrail.typeorm.entityManager/2');

type Method = (...args: unknown[]) => unknown;
interface ManagerLike {
  dataSource?: unknown;
  connection?: unknown;
}

/**
 * Makes an EntityManager's methods run in an orm scope naming the entity (first argument: class,
 * schema, name or entity) and the method; `transaction` is a weak scope (the calls inside it name their
 * own operation). Patched once on the prototype that holds each method, as the query builders are:
 * TypeORM makes an EntityManager per query runner, and wrapping every instance cost a closure per
 * method per manager (and turned the instances into dictionaries). Managers of data sources that were
 * not instrumented pass straight through.
 */
export function wrapEntityManager<M extends object>(state: TypeormState, manager: M): M {
  if (!state.context) return manager;
  // Managers of one class share a prototype chain: walking it for every method is done once per class,
  // not once per manager (about 3 µs per find otherwise).
  const chain = Object.getPrototypeOf(manager) as object | null;
  // …unless something replaced a method on it since (an APM agent, a re-wrap): then walk it again.
  if (chain === null || (donePrototypes.has(chain) && (manager as { find?: { [kPatched]?: true } }).find?.[kPatched])) return manager;
  for (const name of METHODS) {
    const proto = ownerOf(manager, name) as Record<string, unknown> | undefined;
    const original = proto?.[name];
    if (proto === undefined || typeof original !== 'function' || (original as { [kPatched]?: true })[kPatched]) continue;
    const wrapped = function (this: ManagerLike, ...args: unknown[]) {
      const st = stateOf(this.dataSource ?? this.connection);
      if (!st?.context) return (original as Method).apply(this, args);
      const model = name === 'query' || name === 'sql' ? undefined : st.metadata.entityOfTarget(args[0])?.name;
      return runInOrmScope(model, name, () => (original as Method).apply(this, args));
    };
    Object.defineProperty(wrapped, kPatched, { value: true });
    proto[name] = wrapped;
  }
  const owner = ownerOf(manager, 'transaction') as Record<string, unknown> | undefined;
  const transaction = owner?.transaction;
  if (owner !== undefined && typeof transaction === 'function' && !(transaction as { [kPatched]?: true })[kPatched]) {
    const wrapped = function (this: ManagerLike, ...args: unknown[]) {
      if (!stateOf(this.dataSource ?? this.connection)?.context) return (transaction as Method).apply(this, args);
      return runInOrmScope(undefined, 'transaction', () => (transaction as Method).apply(this, args), true);
    };
    Object.defineProperty(wrapped, kPatched, { value: true });
    owner.transaction = wrapped;
  }
  donePrototypes.add(chain);
  return manager;
}

/** Prototypes whose chain wrapEntityManager has patched. */
const donePrototypes = new WeakSet<object>();
