import type { StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { instrumentBaseConnection } from './connection.js';
import { isBaseConnection, isPromiseConnection, isPromisePool } from './guards.js';
import { instrumentPool } from './pool.js';
import { instrumentPromiseConnection } from './promise-connection.js';

/**
 * Instruments a `mariadb` (3.x promise API) Pool or Connection in place: `mariadb.createPool()`,
 * `await mariadb.createConnection()`, `await pool.getConnection()`. Returns the same object; calling
 * it again changes nothing.
 */
export function instrumentMariadb<T extends object>(recorder: StatementRecorder, target: T): T {
  if (isPromisePool(target)) instrumentPool(recorder, target);
  else if (isPromiseConnection(target) && instrumentPromiseConnection(recorder, target)) {
    // done
  } else if (isBaseConnection(target)) instrumentBaseConnection(recorder, target);
  else {
    throw new QuerytrailError(
      'QT_ERR_INVALID_ARGUMENT',
      'instrumentMariadb: expected a mariadb pool (createPool) or connection (createConnection, pool.getConnection) of the promise API',
    );
  }
  return target;
}
