import type { DbInfo, DbSystem } from '../../capture/types.js';
import type { ConnectionLike } from './types.js';

/** MariaDB announces itself in the handshake's server version (e.g. "5.5.5-10.11.6-MariaDB-0+deb12u1"). */
function systemOf(conn: ConnectionLike): DbSystem {
  const version = conn._handshakePacket?.serverVersion;
  if (typeof version === 'string') return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  return conn._isMariaDB === true ? 'mariadb' : 'mysql';
}

export function isHandshakeDone(conn: ConnectionLike): boolean {
  return conn._handshakePacket != null || conn.threadId != null;
}

/** Fills `into` with what is known about the connection (called at instrumentation, then once at connect). */
export function fillDbInfo(into: DbInfo, conn: ConnectionLike): DbInfo {
  const c = conn.config;
  into.system = systemOf(conn);
  into.driver = 'mysql2';
  if (typeof c.database === 'string' && c.database.length > 0) into.namespace = c.database;
  if (typeof c.user === 'string' && c.user.length > 0) into.user = c.user;
  const server: NonNullable<DbInfo['server']> = {};
  if (typeof c.socketPath === 'string' && c.socketPath.length > 0) {
    server.address = c.socketPath;
  } else {
    if (typeof c.host === 'string') server.address = c.host;
    if (typeof c.port === 'number') server.port = c.port;
  }
  into.server = server;
  if (conn.threadId != null) into.connection_id = String(conn.threadId);
  return into;
}
