import { type Auditor, ConfigError } from '@querytrail/core';

function isMariadbPool(d: Record<string, unknown>): boolean {
  return typeof d.getConnection === 'function' && typeof d.batch === 'function' && typeof d.totalConnections === 'function';
}

function isPg(d: Record<string, unknown>): boolean {
  // pg.Pool (connect + totalCount) or pg.Client (connect + query, no batch).
  return typeof d.connect === 'function' && typeof d.query === 'function' && typeof d.batch !== 'function';
}

/**
 * Instruments the driver object an adapter runs on (`adapter.underlyingDriver()`: a pg Pool for
 * @prisma/adapter-pg, a mariadb pool for @prisma/adapter-mariadb). Idempotent: a pool the app
 * instrumented itself is left as is. Throws ConfigError when the driver is not one querytrail knows.
 */
export function instrumentDriver(auditor: Auditor, driver: unknown, adapterName: string): void {
  if (typeof driver !== 'object' || driver === null) {
    throw new ConfigError('adapter', `${adapterName} does not expose its driver (underlyingDriver()); instrument the pool yourself and pass it to the adapter`);
  }
  const d = driver as Record<string, unknown>;
  if (isMariadbPool(d)) auditor.instrumentMariadb(d);
  else if (isPg(d)) auditor.instrumentPg(d);
  else throw new ConfigError('adapter', `${adapterName}: querytrail records pg and mariadb drivers; this driver is neither`);
}
