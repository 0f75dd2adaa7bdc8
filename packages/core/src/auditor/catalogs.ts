import { type Catalog, type CatalogInput, createCatalog, introspectCatalog } from '../analysis/index.js';
import type { Analysis, Dialect } from '../analysis/index.js';
import type { IntrospectionConnection, OpenIntrospection } from '../capture/types.js';
import { contextStore } from '../context/store.js';
import type { AuditContext } from '../context/types.js';
import type { DbInfo } from '../event/types.js';
import { dialectOf } from '../capture/describe.js';

/** Introspection queries are querytrail's own: a fresh context, never merged into the caller's. */
const SYSTEM_CONTEXT: AuditContext = Object.freeze({ actor: Object.freeze({ type: 'system', id: 'querytrail' }), source: 'querytrail' });

/** Bounds one introspection (open, query): a connection that hangs must not hold refreshes, or close(), forever. */
const INTROSPECTION_TIMEOUT_MS = 30_000;

/**
 * What querytrail knows of each database's tables and columns, so that `SELECT *` and `t.*` resolve
 * to the columns they read. Per database (system, server, namespace): given statically, or
 * introspected from information_schema the first time a connection to it is made, refreshed after
 * DDL and on demand.
 */
export interface CatalogOptions {
  /** 'introspect' (default) or false. */
  mode?: 'introspect' | false;
  /** Static catalogs by database name (namespace): { app: { public: { users: ['id', 'email'] } } }. Never introspected over. */
  static?: Record<string, CatalogInput>;
}

interface FixedEntry {
  readonly fixed: Catalog;
}

interface IntrospectedEntry {
  readonly fixed?: undefined;
  readonly dialect: Dialect;
  /** PostgreSQL: DDL is transactional, so another connection sees it only after COMMIT. */
  readonly transactionalDdl: boolean;
  catalog?: Catalog;
  /** Opens a connection of querytrail's own to this database: the one the newest app connection reported. */
  open: OpenIntrospection;
  running?: Promise<void> | undefined;
  /** One more read, after the running one (which may have started before the change it must see). */
  queued?: Promise<void> | undefined;
  /** The last read failed: the next new connection or refresh trigger tries again. */
  failed: boolean;
  /** The last failure's message: the same failure on every retry is reported once. */
  lastError?: string | undefined;
  /**
   * Connections (connection_id) that ran DDL with no COMMIT since. That DDL may sit in an open
   * transaction, invisible to the introspection connection: their next COMMIT refreshes again.
   */
  readonly uncommittedDdl: Set<string>;
}

type Entry = FixedEntry | IntrospectedEntry;

export class CatalogRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly keys = new WeakMap<DbInfo, string>();
  private readonly enabled: boolean;
  private closed = false;

  constructor(
    private readonly options: CatalogOptions | undefined,
    private readonly onError: (err: unknown) => void,
  ) {
    this.enabled = options?.mode !== false;
  }

  private key(db: DbInfo): string {
    let k = this.keys.get(db);
    if (k === undefined) {
      k = `${db.system}|${db.server?.address ?? ''}|${db.server?.port ?? ''}|${db.namespace ?? ''}`;
      this.keys.set(db, k);
    }
    return k;
  }

  /** Hot path: a map lookup. */
  get(db: DbInfo): Catalog | undefined {
    const e = this.entries.get(this.key(db));
    if (e) return e.fixed ?? e.catalog;
    const input = db.namespace === undefined ? undefined : this.options?.static?.[db.namespace];
    if (input === undefined) return undefined;
    const fixed = createCatalog(dialectOf(db.system), input);
    this.entries.set(this.key(db), { fixed });
    return fixed;
  }

  /**
   * A driver reports a fresh application connection and how to open a separate one like it. The first
   * per database introspects; later ones replace the opener (the newest settings win) and retry a
   * read that failed. Nothing ever runs on the application's connection itself.
   */
  connected(db: DbInfo, open: OpenIntrospection): void {
    if (!this.enabled || this.closed) return;
    const k = this.key(db);
    const e = this.entries.get(k);
    if (e?.fixed || (e === undefined && this.get(db))) return;
    if (e === undefined) {
      const entry: IntrospectedEntry = {
        dialect: dialectOf(db.system),
        transactionalDdl: db.system === 'postgresql',
        open,
        failed: false,
        uncommittedDdl: new Set(),
      };
      this.entries.set(k, entry);
      void this.refreshOne(entry);
      return;
    }
    const entry = e as IntrospectedEntry;
    entry.open = open;
    if (entry.failed) void this.refreshOne(entry);
  }

  /** The application connection is gone: forget its uncommitted DDL. */
  disconnected(db: DbInfo): void {
    const e = this.entries.get(this.key(db));
    if (e && !e.fixed) e.uncommittedDdl.delete(db.connection_id ?? '');
  }

  /** After a statement succeeded: DDL (and the COMMIT that publishes it) refreshes the catalog. */
  afterStatement(db: DbInfo, analysis: Analysis): void {
    if (analysis.kind !== 'ddl' && !analysis.statements.some(changesSchema)) return;
    const e = this.entries.get(this.key(db));
    if (!e || e.fixed) return;
    const connection = db.connection_id ?? '';
    const effect = catalogEffect(analysis, e.uncommittedDdl.has(connection), e.transactionalDdl);
    if (effect.uncommittedDdl) e.uncommittedDdl.add(connection);
    else e.uncommittedDdl.delete(connection);
    if (effect.refresh) void this.refreshOne(e);
  }

  /** Re-reads every introspected catalog. */
  async refresh(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => (e.fixed ? undefined : this.refreshOne(e))));
  }

  /** No new reads; resolves once the running ones have finished (their statements are recorded before sdk.stop). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.entries.values()].map((e) => (e.fixed ? undefined : e.queued ?? e.running)));
  }

  /** Reads now, or once more after the read under way: reads of one database never overlap. */
  private refreshOne(e: IntrospectedEntry): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (e.running) {
      e.queued ??= e.running.then(() => {
        e.queued = undefined;
        return this.refreshOne(e);
      });
      return e.queued;
    }
    e.running = this.read(e).finally(() => {
      e.running = undefined;
    });
    return e.running;
  }

  private async read(e: IntrospectedEntry): Promise<void> {
    try {
      // Captured like any other statement, as querytrail's own: a fresh context, not merged into the
      // caller's (the app's actor or ORM model must not leak onto them).
      await contextStore.run(SYSTEM_CONTEXT, () =>
        readCatalog(e.open, e.dialect, (catalog) => {
          e.catalog = catalog;
        }),
      );
      e.failed = false;
      e.lastError = undefined;
    } catch (err) {
      // No fallback to an application connection: the catalog stays as it was (absent or stale).
      e.failed = true;
      const message = String(err);
      if (message !== e.lastError) this.onError(err);
      e.lastError = message;
    }
  }
}

function changesSchema(s: Analysis['statements'][number]): boolean {
  return s.kind === 'ddl' || s.kind === 'tcl';
}

/**
 * What a successful statement means for the catalog. DDL refreshes at once (autocommit DDL, and all
 * MySQL/MariaDB DDL, which commits implicitly, is visible to another connection now). PostgreSQL DDL
 * may sit in the app's open transaction: the connection is remembered and its next COMMIT refreshes
 * again. ROLLBACK discards it; COMMIT PREPARED may publish DDL of any session.
 */
function catalogEffect(
  analysis: Analysis,
  uncommittedDdl: boolean,
  transactionalDdl: boolean,
): { refresh: boolean; uncommittedDdl: boolean } {
  let refresh = analysis.kind === 'ddl';
  let pending = uncommittedDdl;
  for (const s of analysis.statements) {
    if (s.kind === 'ddl') {
      refresh = true;
      pending ||= transactionalDdl;
    } else if (s.command === 'COMMIT') {
      refresh ||= pending;
      pending = false;
    } else if (s.command === 'ROLLBACK') {
      pending = false;
    } else if (s.command === 'COMMIT PREPARED') {
      refresh = true;
    }
  }
  return { refresh, uncommittedDdl: pending };
}

/**
 * Opens a connection of querytrail's own, reads the catalog through it, closes it. The catalog is
 * installed as soon as it is read: statements sent while the connection closes already use it.
 */
async function readCatalog(open: OpenIntrospection, dialect: Dialect, install: (catalog: Catalog) => void): Promise<void> {
  const deadline = new Deadline(INTROSPECTION_TIMEOUT_MS);
  let opening: Promise<IntrospectionConnection> | undefined;
  let conn: IntrospectionConnection | undefined;
  try {
    opening = open();
    conn = await Promise.race([opening, deadline.expired]);
    const c = conn;
    install(await Promise.race([introspectCatalog((sql) => c.query(sql), dialect), deadline.expired]));
  } catch (err) {
    // Opened after the deadline: closed as soon as it is there.
    if (conn === undefined) opening?.then((c) => c.close(), () => undefined);
    throw err;
  } finally {
    deadline.clear();
    if (conn !== undefined) {
      const closing = conn.close();
      // After a timeout the query may still be running: closing ends it, and nobody waits for that.
      if (!deadline.fired) await closing;
    }
  }
}

/** A promise that rejects after `ms` unless cleared first; never keeps the process alive. */
class Deadline {
  readonly expired: Promise<never>;
  fired = false;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(ms: number) {
    let fail: (err: Error) => void = () => undefined;
    this.expired = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.expired.catch(() => undefined); // raced while it matters; nobody listens once cleared
    this.timer = setTimeout(() => {
      this.fired = true;
      fail(new Error(`catalog introspection did not finish within ${ms / 1000} s`));
    }, ms);
    this.timer.unref();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
