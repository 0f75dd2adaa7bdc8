import type { StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { instrumentClient } from './client.js';
import { clientState } from './client-state.js';
import { clientIntrospection } from './introspection.js';
import { instrumentPool } from './pool.js';
import type { PgClientLike, PgPoolLike } from './types.js';

function isPool(target: object): target is PgPoolLike {
  const t = target as Partial<PgPoolLike>;
  return typeof t.connect === 'function' && typeof t.query === 'function' && 'totalCount' in t && 'idleCount' in t;
}

function isClient(target: object): target is PgClientLike {
  const t = target as Partial<PgClientLike>;
  return typeof t.connect === 'function' && typeof t.query === 'function' && typeof t.on === 'function';
}

/**
 * Instruments a pg `Pool` or `Client` instance in place and returns the same object (its class and
 * `instanceof` unchanged). Calling it again on the same object changes nothing. Core never loads 'pg':
 * it works on the instance's structure.
 */
export function instrumentPg<T extends object>(recorder: StatementRecorder, target: T): T {
  // A client instrumented already (plugins hand every checkout back here): nothing to work out again,
  // in particular not the settings of a connection for the catalog reads.
  if (clientState(target as PgClientLike) !== undefined) return target;
  if (isPool(target)) return instrumentPool(recorder, target) as T;
  if (isClient(target)) {
    instrumentClient(recorder, target, { openIntrospection: clientIntrospection(recorder, target) });
    return target;
  }
  throw new QuerytrailError('QT_ERR_INVALID_ARGUMENT', 'instrumentPg: expected a pg Pool or Client instance');
}
