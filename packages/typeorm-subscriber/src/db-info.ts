import type { DbInfo } from '@querytrail/core';

interface PgClientFields {
  database?: unknown;
  user?: unknown;
  host?: unknown;
  port?: unknown;
  processID?: unknown;
}

interface Mysql2ConnectionFields {
  config?: { database?: unknown; user?: unknown; host?: unknown; port?: unknown };
  threadId?: unknown;
  _handshakePacket?: { serverVersion?: unknown } | null;
}

/**
 * The DbInfo of the connection a query runner holds, as the driver wrapper describes it (policy
 * scopes on database and user must decide the same way in the early check as at the driver).
 */
export function dbInfoOf(type: string, connection: unknown): DbInfo {
  if (type === 'postgres') return pgInfo((connection ?? {}) as PgClientFields);
  return mysqlInfo(type, (connection ?? {}) as Mysql2ConnectionFields);
}

function pgInfo(c: PgClientFields): DbInfo {
  const info: DbInfo = { system: 'postgresql', driver: 'pg' };
  if (typeof c.database === 'string') info.namespace = c.database;
  if (typeof c.user === 'string') info.user = c.user;
  const server = serverOf(c.host, c.port);
  if (server) info.server = server;
  if (typeof c.processID === 'number') info.connection_id = String(c.processID);
  return info;
}

function mysqlInfo(type: string, c: Mysql2ConnectionFields): DbInfo {
  const version = c._handshakePacket?.serverVersion;
  const system = typeof version === 'string' ? (/mariadb/i.test(version) ? 'mariadb' : 'mysql') : type === 'mariadb' ? 'mariadb' : 'mysql';
  const info: DbInfo = { system, driver: 'mysql2' };
  const cfg = c.config ?? {};
  if (typeof cfg.database === 'string' && cfg.database.length > 0) info.namespace = cfg.database;
  if (typeof cfg.user === 'string' && cfg.user.length > 0) info.user = cfg.user;
  const server = serverOf(cfg.host, cfg.port);
  if (server) info.server = server;
  if (c.threadId != null) info.connection_id = String(c.threadId);
  return info;
}

function serverOf(host: unknown, port: unknown): DbInfo['server'] | undefined {
  const server: NonNullable<DbInfo['server']> = {};
  if (typeof host === 'string') server.address = host;
  const p = typeof port === 'string' ? Number(port) : port;
  if (typeof p === 'number' && Number.isFinite(p)) server.port = p;
  return server.address === undefined && server.port === undefined ? undefined : server;
}
