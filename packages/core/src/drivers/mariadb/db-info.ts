import type { DbInfo } from '../../capture/types.js';
import type { BaseConnectionLike } from './types.js';

export function isHandshakeDone(conn: BaseConnectionLike): boolean {
  const id = conn.info?.threadId;
  return typeof id === 'number' && id >= 0;
}

/** Fills `into` with what is known about the connection (at instrumentation; completed once connected). */
export function fillDbInfo(into: DbInfo, conn: BaseConnectionLike): DbInfo {
  const o = conn.opts;
  const info = conn.info;
  // Before the handshake the server is unknown: the driver's name says what it is meant for.
  into.system = isHandshakeDone(conn) && typeof info?.isMariaDB === 'function' && !info.isMariaDB() ? 'mysql' : 'mariadb';
  into.driver = 'mariadb';
  if (typeof o.database === 'string' && o.database.length > 0) into.namespace = o.database;
  if (typeof o.user === 'string' && o.user.length > 0) into.user = o.user;
  const server: NonNullable<DbInfo['server']> = {};
  if (typeof o.socketPath === 'string' && o.socketPath.length > 0) {
    server.address = o.socketPath;
  } else {
    if (typeof o.host === 'string') server.address = o.host;
    if (typeof o.port === 'number') server.port = o.port;
  }
  into.server = server;
  if (isHandshakeDone(conn)) into.connection_id = String(info!.threadId);
  return into;
}
