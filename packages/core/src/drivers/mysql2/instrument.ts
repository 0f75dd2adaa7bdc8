import type { StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { instrumentConnection } from './connection.js';
import { isConnection, isPool, isPoolCluster } from './guards.js';
import { instrumentPool } from './pool.js';
import { instrumentPoolCluster } from './pool-cluster.js';

/**
 * Instruments a mysql2 Pool, PoolCluster or Connection (PoolConnection included), or a mysql2/promise
 * PromisePool, PromisePoolCluster, PromiseConnection or PromisePoolConnection (through the core
 * object each wraps), in place. Returns the same object; calling it again changes nothing.
 */
export function instrumentMysql2<T extends object>(recorder: StatementRecorder, target: T): T {
  const t = target as { connection?: unknown; pool?: unknown; poolCluster?: unknown };
  if (isConnection(target)) instrumentConnection(recorder, target);
  else if (isPool(target)) instrumentPool(recorder, target);
  else if (isPoolCluster(target)) instrumentPoolCluster(recorder, target);
  else if (isConnection(t.connection)) instrumentConnection(recorder, t.connection);
  else if (isPool(t.pool)) instrumentPool(recorder, t.pool);
  else if (isPoolCluster(t.poolCluster)) instrumentPoolCluster(recorder, t.poolCluster);
  else {
    throw new QuerytrailError(
      'QT_ERR_INVALID_ARGUMENT',
      'instrumentMysql2: expected a mysql2 Pool, PoolCluster or Connection, or a mysql2/promise pool or connection',
    );
  }
  return target;
}
