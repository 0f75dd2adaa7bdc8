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
 * terminal methods are wrapped once on the prototypes. The prototypes are those of the builders this
 * DataSource makes, never an `import from 'typeorm'`: an application on 0.3 next to a 1.x copy (or two
 * copies of one version) has its own classes. A builder of a DataSource that was not instrumented
 * passes straight through.
 */
export function patchQueryBuilders(dataSource: object): void {
  const select = newSelectBuilder(dataSource);
  if (!select) return;
  patch(select, SELECT_METHODS, (_qb, method) => method);
  // insert / update / delete / softDelete each return a builder of their own class (nothing is sent).
  for (const make of ['insert', 'update', 'delete', 'softDelete'] as const) {
    const qb = builderOf(() => (newSelectBuilder(dataSource) as Record<typeof make, () => object> | undefined)?.[make]());
    if (qb) patch(qb, ['execute'], (b) => b.expressionMap?.queryType ?? 'execute');
  }
}

/** `dataSource.createQueryBuilder()` (0.3 and 1.x): a SelectQueryBuilder of the DataSource's own TypeORM. */
function newSelectBuilder(dataSource: object): object | undefined {
  const create = (dataSource as { createQueryBuilder?: unknown }).createQueryBuilder;
  if (typeof create !== 'function') return undefined;
  return builderOf(() => create.call(dataSource) as object);
}

function builderOf(make: () => object | undefined): object | undefined {
  try {
    const qb = make();
    return typeof qb === 'object' && qb !== null ? qb : undefined;
  } catch {
    return undefined; // no builder, no operation names: statements are still recorded (operation `query`)
  }
}

/** Wraps `methods` where they are defined: the nearest prototype of `instance` that owns each. */
function patch(instance: object, methods: readonly string[], operationOf: (qb: QueryBuilderFields, method: string) => string): void {
  for (const name of methods) {
    const proto = ownerOf(instance, name);
    if (!proto) continue;
    const target = proto as Record<string | symbol, unknown>;
    const original = target[name];
    if (typeof original !== 'function' || (original as { [kPatched]?: true })[kPatched]) continue;
    const wrapped = function (this: QueryBuilderFields, ...args: unknown[]) {
      const state = stateOf(this.dataSource ?? this.connection);
      if (!state?.context) return (original as Method).apply(this, args);
      const alias = this.expressionMap?.mainAlias;
      const model = alias?.hasMetadata ? alias.metadata?.name : undefined;
      return runInOrmScope(model, operationOf(this, name), () => (original as Method).apply(this, args));
    };
    Object.defineProperty(wrapped, kPatched, { value: true });
    target[name] = wrapped;
  }
}

/** The object on `instance`'s prototype chain that holds `name` itself. */
export function ownerOf(instance: object, name: string): object | undefined {
  for (let p = Object.getPrototypeOf(instance) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.hasOwn(p, name)) return p;
  }
  return undefined;
}
