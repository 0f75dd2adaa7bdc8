import type { Auditor } from '@querytrail/core';

const kAudited = Symbol.for('querytrail.typeorm.auditedModule');

type Ctor = new (...args: unknown[]) => object;
type Factory = (...args: unknown[]) => object;

/**
 * A view of the `pg` module whose Pool instruments every pool it creates. TypeORM builds its pool with
 * `new driver.Pool(...)` and sends its first statement after that, so nothing it sends is missed.
 * The module object itself is left untouched (other code using pg is unaffected).
 */
export function auditedPgModule<M extends object>(pg: M, auditor: Auditor): M {
  if ((pg as Record<symbol, unknown>)[kAudited]) return pg;
  const Pool = (pg as { Pool?: Ctor }).Pool;
  if (typeof Pool !== 'function') return pg;
  const view = Object.create(pg) as Record<string | symbol, unknown>;
  // A Proxy keeps statics, prototype and `instanceof pg.Pool`.
  view.Pool = new Proxy(Pool, {
    construct(target, args, newTarget) {
      return auditor.instrumentPg(Reflect.construct(target, args, newTarget) as object);
    },
  });
  view[kAudited] = true;
  return view as M;
}

/** Same for `mysql2`: pools, pool clusters and connections it creates are instrumented at birth. */
export function auditedMysql2Module<M extends object>(mysql: M, auditor: Auditor): M {
  if ((mysql as Record<symbol, unknown>)[kAudited]) return mysql;
  const view = Object.create(mysql) as Record<string | symbol, unknown>;
  for (const name of ['createPool', 'createPoolCluster', 'createConnection']) {
    const create = (mysql as Record<string, unknown>)[name];
    if (typeof create !== 'function') continue;
    view[name] = (...args: unknown[]) => auditor.instrumentMysql2((create as Factory).apply(mysql, args));
  }
  view[kAudited] = true;
  return view as M;
}
