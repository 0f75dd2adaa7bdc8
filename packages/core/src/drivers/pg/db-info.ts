import type { DbInfo } from '../../event/types.js';
import type { PgClientLike } from './types.js';

/** DbInfo of one pg client, computed once and recomputed only when the backend process id changes. */
export class DbInfoCache {
  private info: DbInfo | undefined;
  private pid: number | null | undefined;

  constructor(private readonly client: PgClientLike) {}

  get(): DbInfo {
    const pid = this.client.processID;
    if (this.info === undefined || pid !== this.pid) {
      this.pid = pid;
      this.info = describeClient(this.client);
    }
    return this.info;
  }
}

export function describeClient(client: PgClientLike): DbInfo {
  const info: DbInfo = { system: 'postgresql', driver: 'pg' };
  if (typeof client.database === 'string') info.namespace = client.database;
  if (typeof client.user === 'string') info.user = client.user;
  const server: NonNullable<DbInfo['server']> = {};
  if (typeof client.host === 'string') server.address = client.host;
  const port = typeof client.port === 'string' ? Number(client.port) : client.port;
  if (typeof port === 'number' && Number.isFinite(port)) server.port = port;
  if (server.address !== undefined || server.port !== undefined) info.server = Object.freeze(server);
  if (typeof client.processID === 'number') info.connection_id = String(client.processID);
  return Object.freeze(info);
}
