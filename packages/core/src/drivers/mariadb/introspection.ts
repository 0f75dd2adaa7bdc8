/**
 * Connections querytrail opens for itself to read the table catalog: a new base Connection with the
 * app connection's options, the way the driver itself opens the side connection that KILLs a
 * destroyed connection's query (lib/connection.js destroy()), outside any pool. Never a query on the
 * app's connection: it would queue with the app's statements and, inside its transaction, see (and
 * risk breaking) what the transaction does. This is also the path of Prisma's MySQL adapter.
 */
import type { IntrospectionConnection, OpenIntrospection } from '../../capture/types.js';
import type { BaseConnectionLike, Reject, Resolve } from './types.js';

/** What opening and closing a base Connection takes (lib/connection.js). */
interface OwnConnectionLike extends BaseConnectionLike {
  connect(): Promise<unknown>;
  end(cmdParam: object, resolve: Resolve, reject: Reject): unknown;
  destroy(): unknown;
}

type ConnectionClass = new (options: Record<string, unknown>) => OwnConnectionLike;

/** The connection's options live on an EventEmitter (Object.assign(new EventEmitter(), options)): not its listeners. */
const EMITTER_FIELDS = new Set(['_events', '_eventsCount', '_maxListeners']);

/** Rows as objects whatever the app's options say: the catalog reader looks columns up by name. */
const QUERY_OPTIONS = Object.freeze({ rowsAsArray: false, metaAsArray: false, nestTables: false });

/**
 * How to open a connection like `conn`, from its options as they are now. `instrument`: records the
 * new connection's statements without announcing it (no db.connect, so no catalog read of its own).
 */
export function introspectionOpener(conn: BaseConnectionLike, instrument: (own: BaseConnectionLike) => void): OpenIntrospection {
  const options = copyOptions(conn.opts as unknown as Record<string, unknown>);
  const Connection = conn.constructor as unknown as ConnectionClass;
  // A `stream` option is a factory (the driver calls it for each connection), so it can be used again.
  return () => open(new Connection(options), instrument);
}

function copyOptions(opts: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(opts)) if (!EMITTER_FIELDS.has(name)) copy[name] = value;
  return copy;
}

async function open(conn: OwnConnectionLike, instrument: (own: BaseConnectionLike) => void): Promise<IntrospectionConnection> {
  // The driver throws a fatal error nobody waits for unless someone listens to 'error'.
  conn.on('error', ignore);
  await conn.connect();
  // After the handshake: its DbInfo (thread id) is complete from the first statement.
  instrument(conn);
  return {
    query: (sql) => new Promise((resolve, reject) => conn.query({ sql, opts: { ...QUERY_OPTIONS } }, resolve as Resolve, reject)),
    close: () =>
      new Promise<void>((resolve) => {
        try {
          conn.end({}, () => resolve(), () => resolve());
        } catch {
          conn.destroy();
          resolve();
        }
      }),
  };
}

function ignore(): void {}
