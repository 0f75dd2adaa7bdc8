import { withOrm } from './context.js';
import { builderOrm, transactionOrm } from './orm-info.js';
import { stateOf } from './registry.js';
import type { CompiledQueryLike, KnexClientLike, RunnerLike } from './types.js';

/**
 * knex builds transaction clients with Object.create(dialect prototype) and runners with `new Runner`,
 * so nothing set on a knex instance reaches the statements of its transactions. The context is
 * therefore added on the shared prototypes (Runner, and the dialect client's `query`), once per
 * prototype, and each patched method checks that its client belongs to an instrumented knex (by its
 * `config`): other knex instances in the process run knex's code unchanged.
 */
const kPatched = Symbol.for('querytrail.knex.patched');

type Patchable = Record<string | symbol, unknown>;

/** Statements a Runner hands to client.query: their context is already set. */
const fromRunner = new WeakSet<object>();

function once(proto: Patchable, name: string, make: (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown): void {
  const marks = (Object.hasOwn(proto, kPatched) ? proto[kPatched] : undefined) as Set<string> | undefined;
  if (marks?.has(name)) return;
  const original = proto[name];
  if (typeof original !== 'function') return;
  Object.defineProperty(proto, name, {
    value: make(original as (...args: unknown[]) => unknown),
    writable: true,
    configurable: true,
    enumerable: false,
  });
  if (marks) marks.add(name);
  else Object.defineProperty(proto, kPatched, { value: new Set([name]), configurable: true });
}

/** Runner#query (every builder statement, in and out of transactions) and Runner#stream. */
export function patchRunner(client: KnexClientLike): void {
  const proto = Object.getPrototypeOf(client.runner(undefined)) as Patchable;
  once(
    proto,
    'query',
    (original) =>
      function query(this: RunnerLike, obj: unknown) {
        const state = stateOf(this.client);
        if (!state) return original.call(this, obj);
        if (obj !== null && typeof obj === 'object') fromRunner.add(obj);
        return withOrm(builderOrm(this.builder, obj as CompiledQueryLike), () => original.call(this, obj));
      },
  );
  once(
    proto,
    'stream',
    (original) =>
      function stream(this: RunnerLike, ...args: unknown[]) {
        const state = stateOf(this.client);
        if (!state) return original.apply(this, args);
        // The statement is compiled after the connection is acquired; the builder already knows its method.
        return withOrm(builderOrm(this.builder, undefined), () => original.apply(this, args));
      },
  );
}

/**
 * The dialect client's `query`: reached by builder statements (already in context, passed through)
 * and by the transaction's own BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE, sent as strings.
 * Patched on `client.constructor.prototype`, the object makeTxClient copies `query` from.
 */
export function patchClientQuery(client: KnexClientLike): void {
  const proto = (client.constructor as { prototype: Patchable }).prototype;
  once(
    proto,
    'query',
    (original) =>
      function query(this: KnexClientLike, connection: unknown, obj: unknown) {
        const state = stateOf(this);
        if (!state || (obj !== null && typeof obj === 'object' && fromRunner.has(obj))) {
          return original.call(this, connection, obj);
        }
        const orm =
          typeof obj === 'string' ? transactionOrm(obj) : builderOrm(undefined, (obj ?? undefined) as CompiledQueryLike | undefined);
        return withOrm(orm, () => original.call(this, connection, obj));
      },
  );
}
