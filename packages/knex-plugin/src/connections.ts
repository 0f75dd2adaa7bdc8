import { type AuditContext, currentContext, runWithContext } from '@querytrail/core';
import { ORM_NAME } from './orm-info.js';
import type { KnexClientLike, TarnPoolLike } from './types.js';

type Instrument = (connection: object) => object;
type Ctor = new (...args: unknown[]) => object;

const kOriginalDriver = Symbol.for('querytrail.knex.originalDriver');

/**
 * Every connection the dialect creates goes through `client.driver` (pg: `new driver.Client()`,
 * mysql2: `driver.createConnection()`). Handing the client a view of the driver module whose
 * constructor instruments what it makes covers each connection from its first statement: knex's own
 * version check and `set search_path` run before any pool afterCreate hook would.
 */
export function wrapDriver(client: KnexClientLike, instrument: Instrument): void {
  const driver = client.driver as Record<string | symbol, unknown> | undefined;
  if (!driver || driver[kOriginalDriver]) return;
  const overrides: PropertyDescriptorMap = { [kOriginalDriver]: { value: driver } };
  if (client.driverName === 'pg' && typeof driver.Client === 'function') {
    const Original = driver.Client as Ctor;
    // Called with `new`: returning an object makes that object the result; instanceof still holds.
    function Client(...args: unknown[]): object {
      return instrument(new Original(...args));
    }
    Client.prototype = Original.prototype;
    overrides.Client = { value: Client, enumerable: true };
  } else if (client.driverName === 'mysql2' && typeof driver.createConnection === 'function') {
    const create = driver.createConnection as (...args: unknown[]) => object;
    overrides.createConnection = { value: (...args: unknown[]) => instrument(create.apply(driver, args)), enumerable: true };
  } else {
    return;
  }
  // Everything else (types, errors, ...) is read through to the real module.
  client.driver = Object.create(driver, overrides) as object;
}

/** Connections the pool made before instrumentKnex was called, idle or in use. */
export function instrumentPooled(client: KnexClientLike, instrument: Instrument): void {
  const pool = client.pool as TarnPoolLike | undefined;
  for (const list of [pool?.free, pool?.used]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const resource = entry?.resource;
      if (resource !== null && typeof resource === 'object') instrument(resource);
    }
  }
}

/**
 * Every checkout is instrumented too (a no-op for a connection that already is): covers connections
 * whose creation was under way during the call, and `connectionPool` (a pg.Pool or mysql2 pool the
 * app passed to knex, whose connections knex does not create).
 */
export function instrumentCheckouts(client: KnexClientLike, instrument: Instrument): void {
  const acquire = client.acquireConnection;
  // A .then, not an async function: one promise per checkout instead of three.
  client.acquireConnection = function acquireConnection(this: KnexClientLike): Promise<object> {
    const acquired = acquire.call(this) as Promise<object> | object;
    return isThenable(acquired) ? acquired.then(instrument) : Promise.resolve(instrument(acquired));
  };
}

function isThenable(value: unknown): value is Promise<object> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * A connection may be created while a builder's context is active (a `.stream()` acquires its
 * connection inside it). knex's own set-up statements on it (version check, search_path) and the
 * auditor's catalog read are not that builder's: they run without its `orm` (the actor stays: the
 * request caused them).
 */
export function isolateCreation(client: KnexClientLike): void {
  const acquireRaw = client.acquireRawConnection;
  if (typeof acquireRaw !== 'function') return;
  client.acquireRawConnection = function acquireRawConnection(this: unknown, ...args: unknown[]) {
    if (currentContext()?.orm?.name !== ORM_NAME) return acquireRaw.apply(this, args);
    return runWithContext({ orm: undefined } as unknown as AuditContext, () => acquireRaw.apply(this, args));
  };
}
