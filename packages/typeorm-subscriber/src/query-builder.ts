import { DeleteQueryBuilder, InsertQueryBuilder, SelectQueryBuilder, UpdateQueryBuilder } from 'typeorm';
import { runInOrmScope } from './scope.js';
import { stateOf } from './state.js';

const kPatched = Symbol.for('querytrail.typeorm.queryBuilder');
const SELECT_METHODS = ['getRawOne', 'getRawMany', 'getRawAndEntities', 'getOne', 'getOneOrFail', 'getMany', 'getCount', 'getExists', 'getManyAndCount', 'stream'];

interface QueryBuilderFields {
  dataSource?: unknown;
  connection?: unknown;
  expressionMap?: { queryType?: string; mainAlias?: { hasMetadata?: boolean; metadata?: { name?: string } } };
}

type Method = (...args: unknown[]) => unknown;

/**
 * Query builders are created in many places (managers, repositories, relation loaders), so their
 * terminal methods are wrapped once on the prototypes. A builder of a DataSource that was not
 * instrumented passes straight through.
 */
export function patchQueryBuilders(dataSource: object): void {
  patch(SelectQueryBuilder.prototype, SELECT_METHODS, (_qb, method) => method);
  const protos: object[] = [InsertQueryBuilder.prototype, UpdateQueryBuilder.prototype, DeleteQueryBuilder.prototype];
  const softDelete = softDeletePrototype(dataSource);
  if (softDelete) protos.push(softDelete);
  for (const proto of protos) {
    patch(proto, ['execute'], (qb) => qb.expressionMap?.queryType ?? 'execute');
  }
}

function patch(proto: object, methods: readonly string[], operationOf: (qb: QueryBuilderFields, method: string) => string): void {
  const target = proto as Record<string | symbol, unknown>;
  if (Object.hasOwn(target, kPatched)) return;
  Object.defineProperty(target, kPatched, { value: true });
  for (const name of methods) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: QueryBuilderFields, ...args: unknown[]) {
      const state = stateOf(this.dataSource ?? this.connection);
      if (!state?.context) return (original as Method).apply(this, args);
      const alias = this.expressionMap?.mainAlias;
      const model = alias?.hasMetadata ? alias.metadata?.name : undefined;
      return runInOrmScope(model, operationOf(this, name), () => (original as Method).apply(this, args));
    };
  }
}

/** SoftDeleteQueryBuilder is not exported by typeorm: take its prototype from a builder (nothing is sent). */
function softDeletePrototype(dataSource: object): object | undefined {
  try {
    const qb = new SelectQueryBuilder(dataSource as ConstructorParameters<typeof SelectQueryBuilder>[0]).softDelete();
    return Object.getPrototypeOf(qb) as object;
  } catch {
    return undefined;
  }
}
