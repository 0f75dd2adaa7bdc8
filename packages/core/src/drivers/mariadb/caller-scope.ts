import { AsyncResource } from 'node:async_hooks';
import type { CmdParam } from './types.js';

/**
 * pool.query / execute / batch run the statement in the pool's checkout callback, which may be
 * called from whoever released a connection. The pool wrapper tags the options object it hands
 * to the driver with the caller's async scope; the connection wrapper begins the statement there.
 */
const kCallerScope = Symbol.for('querytrail.mariadb.callerScope');

/** A copy of the statement argument (string or options object) that carries the caller's scope. */
export function withCallerScope(sql: unknown): unknown {
  // The driver copies only own enumerable options, so a shallow copy changes nothing it reads.
  const copy: Record<string | symbol, unknown> = typeof sql === 'object' && sql !== null ? { ...(sql as object) } : { sql };
  Object.defineProperty(copy, kCallerScope, { value: new AsyncResource('querytrail.mariadb.pool'), enumerable: false });
  return copy;
}

export function callerScopeOf(cmdParam: CmdParam | undefined): AsyncResource | undefined {
  const scope = cmdParam?.opts?.[kCallerScope];
  return scope instanceof AsyncResource ? scope : undefined;
}
