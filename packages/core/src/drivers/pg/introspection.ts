/**
 * Connections querytrail opens for itself to read the table catalog: same driver class and settings
 * as the application's, never one of its clients and never borrowed from its pool. A query on an app
 * client would queue behind (or in front of) the app's own: pg deprecates that, and inside the app's
 * transaction it would see uncommitted DDL and could abort the transaction with its own error.
 */
import { Socket } from 'node:net';
import type { IntrospectionConnection, OpenIntrospection, StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { instrumentClient } from './client.js';
import type { PgClientLike, PgPoolLike } from './types.js';

type PgClientClass = new (config: object) => PgClientLike;

/** What a pg Client keeps of its settings (lib/client.js, lib/connection-parameters.js). */
interface PgClientSettingsLike {
  connectionParameters?: Record<string, unknown> | undefined;
  /** Non-enumerable; a function until the first connect replaces it with what it returned. */
  password?: unknown;
  enableChannelBinding?: unknown;
  _connectionTimeoutMillis?: unknown;
  connection?: { stream?: unknown; _keepAlive?: unknown; _keepAliveInitialDelayMillis?: unknown } | undefined;
}

/** Session settings copied from a client's connectionParameters (replication is left out on purpose). */
const COPIED_PARAMETERS = [
  'user',
  'database',
  'host',
  'port',
  'ssl',
  'sslnegotiation',
  'options',
  'client_encoding',
  'application_name',
  'fallback_application_name',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
] as const;

/**
 * pg-pool makes each client as `new pool.Client(pool.options)`; querytrail's own is made the same way
 * (options read at each open, as the pool does), beside the pool: it never counts toward `max`.
 * `Client`: the pool's client class before instrumentation wrapped it.
 */
export function poolIntrospection(recorder: StatementRecorder, pool: PgPoolLike, Client: unknown): OpenIntrospection {
  return () => {
    const options = (pool as { options?: unknown }).options;
    if (typeof Client !== 'function' || typeof options !== 'object' || options === null) {
      return Promise.reject(new QuerytrailError('QT_ERR_CONFIG', 'pg Pool without Client or options: cannot open a connection like its own'));
    }
    const own = options as { stream?: unknown; connection?: unknown };
    // A stream or Connection object (not a factory) is the one the app's client runs on: never shared.
    if ((own.stream != null && typeof own.stream !== 'function') || own.connection != null) {
      return Promise.reject(new QuerytrailError('QT_ERR_CONFIG', 'pg Pool on a stream or connection object of its own: cannot open a connection like it'));
    }
    return openClient(recorder, () => new (Client as PgClientClass)(options));
  };
}

/**
 * A standalone Client: its config is rebuilt from what the client keeps, captured now (before its
 * connect replaces a password function with the password it returned).
 */
export function clientIntrospection(recorder: StatementRecorder, client: PgClientLike): OpenIntrospection {
  const config = clientConfig(client as PgClientLike & PgClientSettingsLike);
  const Client = client.constructor as PgClientClass;
  return () => (config instanceof Error ? Promise.reject(config) : openClient(recorder, () => new Client(config)));
}

function clientConfig(client: PgClientSettingsLike): Record<string, unknown> | Error {
  const params = client.connectionParameters;
  if (typeof params !== 'object' || params === null) {
    return new QuerytrailError('QT_ERR_CONFIG', 'pg Client without connectionParameters: cannot open a connection like it');
  }
  // A stream (or stream factory) of the app's own is used once and not kept: it cannot be reproduced.
  const stream = client.connection?.stream;
  if (!(stream instanceof Socket)) {
    return new QuerytrailError('QT_ERR_CONFIG', 'pg Client on a custom stream: cannot open a connection like it');
  }
  const config: Record<string, unknown> = { password: client.password };
  for (const name of COPIED_PARAMETERS) {
    if (params[name] !== undefined && params[name] !== null) config[name] = params[name];
  }
  if (typeof client._connectionTimeoutMillis === 'number') config.connectionTimeoutMillis = client._connectionTimeoutMillis;
  if (client.connection?._keepAlive === true) {
    config.keepAlive = true;
    config.keepAliveInitialDelayMillis = client.connection._keepAliveInitialDelayMillis;
  }
  if (client.enableChannelBinding === true) config.enableChannelBinding = true;
  return config;
}

async function openClient(recorder: StatementRecorder, create: () => PgClientLike): Promise<IntrospectionConnection> {
  const client = create();
  // Recorded like any other client's statements; no db.connect / db.disconnect, no catalog read of its own.
  instrumentClient(recorder, client);
  // pg emits a dropped connection as 'error': unheard, that would crash the app.
  client.on('error', ignore);
  await client.connect();
  const query = client.query as unknown as (text: string) => Promise<{ rows: Array<Record<string, unknown>> }>;
  const end = (client as PgClientLike & { end(): Promise<void> }).end;
  return {
    query: (sql) => query.call(client, sql).then((r) => r.rows),
    close: () => end.call(client).then(ignore, ignore),
  };
}

function ignore(): void {}
