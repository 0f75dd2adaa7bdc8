import type { DbInfo } from '../event/types.js';

/**
 * A connection's DbInfo as a pool-level one: the same database, no particular connection. Recorded
 * by db.query.attempt records of statements a pool begins before checking out a connection.
 */
export function poolLevelDb(db: DbInfo): DbInfo {
  const { connection_id: _c, tx_id: _t, ...rest } = db;
  return Object.freeze(rest);
}
