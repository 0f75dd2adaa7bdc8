/**
 * Connections querytrail opens for itself to read the table catalog: a new mysql2 Connection with a
 * copy of the app connection's config (what mysql2's own Pool does for each of its connections),
 * outside any pool. Never a query on the app's connection: it would queue with the app's statements
 * and, inside its transaction, see (and risk breaking) what the transaction does.
 */
import type { IntrospectionConnection, OpenIntrospection } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import type { ConnectionConfigLike, ConnectionLike } from './types.js';

/** What opening and closing a mysql2 connection takes (lib/base/connection.js). */
interface OwnConnectionLike extends ConnectionLike {
  connect(callback: (err: unknown) => void): unknown;
  end(callback: (err?: unknown) => void): unknown;
  destroy(): unknown;
}

type ConnectionClass = new (options: { config: ConnectionConfigLike }) => OwnConnectionLike;

interface ReproducibleConfig extends ConnectionConfigLike {
  stream?: unknown;
  isServer?: unknown;
}

/**
 * How to open a connection like `conn`, from its config as it is now (the session it was opened
 * with). `instrument`: records the new connection's statements without announcing it (no db.connect,
 * so no catalog read of its own).
 */
export function introspectionOpener(conn: ConnectionLike, instrument: (own: ConnectionLike) => void): OpenIntrospection {
  const config = copyConfig(conn.config as ReproducibleConfig);
  const Connection = connectionClass(conn);
  return () => (config instanceof Error ? Promise.reject(config) : open(new Connection({ config }), instrument));
}

/** A clone like mysql2's Pool makes of its connectionConfig for each connection (same prototype and fields). */
function copyConfig(config: ReproducibleConfig): ConnectionConfigLike | Error {
  // A stream object is the app's own, used once; a stream factory (a function) can be called again.
  if (config.stream !== undefined && config.stream !== null && typeof config.stream !== 'function') {
    return new QuerytrailError('QT_ERR_CONFIG', 'mysql2 connection on a stream of its own: cannot open a connection like it');
  }
  return Object.create(Object.getPrototypeOf(config) as object, Object.getOwnPropertyDescriptors(config)) as ConnectionConfigLike;
}

/** A PoolConnection's constructor takes (pool, options); the Connection class it extends takes (options). */
function connectionClass(conn: ConnectionLike): ConnectionClass {
  const Ctor = conn.constructor as unknown as ConnectionClass;
  return ('_pool' in conn ? Object.getPrototypeOf(Ctor) : Ctor) as ConnectionClass;
}

function open(conn: OwnConnectionLike, instrument: (own: ConnectionLike) => void): Promise<IntrospectionConnection> {
  instrument(conn);
  // mysql2 emits a fatal error with no command waiting as 'error': unheard, that would crash the app.
  conn.on('error', ignore);
  return new Promise((resolve, reject) => {
    conn.connect((err) => {
      if (err) {
        conn.destroy();
        reject(err);
      } else {
        resolve({ query: (sql) => run(conn, sql), close: () => close(conn) });
      }
    });
  });
}

/**
 * Runs one statement through the instrumented query (recorded like any other), with rows as objects
 * whatever the app's config says: the catalog reader looks columns up by name.
 */
function run(conn: OwnConnectionLike, sql: string): Promise<Array<Record<string, unknown>>> {
  const query = conn.query as (options: object, cb: (err: unknown, rows: unknown) => void) => unknown;
  return new Promise((resolve, reject) => {
    query.call(conn, { sql, rowsAsArray: false, nestTables: false }, (err, rows) =>
      err ? reject(err) : resolve(rows as Array<Record<string, unknown>>),
    );
  });
}

function close(conn: OwnConnectionLike): Promise<void> {
  return new Promise((resolve) => {
    try {
      conn.end(() => resolve());
    } catch {
      conn.destroy();
      resolve();
    }
  });
}

function ignore(): void {}
