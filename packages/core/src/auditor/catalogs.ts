import { type Catalog, type CatalogInput, CatalogSource, createCatalog, type QueryFn } from '../analysis/index.js';
import type { Analysis } from '../analysis/index.js';
import { contextStore } from '../context/store.js';
import type { AuditContext } from '../context/types.js';
import type { DbInfo } from '../event/types.js';
import { dialectOf } from '../capture/describe.js';

/** Introspection queries are querytrail's own: a fresh context, never merged into the caller's. */
const SYSTEM_CONTEXT: AuditContext = Object.freeze({ actor: Object.freeze({ type: 'system', id: 'querytrail' }), source: 'querytrail' });

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

interface Entry {
  source?: CatalogSource;
  fixed?: Catalog;
  query?: QueryFn;
}

export class CatalogRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly keys = new WeakMap<DbInfo, string>();
  private readonly introspect: boolean;

  constructor(
    private readonly options: CatalogOptions | undefined,
    private readonly onError: (err: unknown) => void,
  ) {
    this.introspect = options?.mode !== false;
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
    if (e) return e.fixed ?? e.source?.current;
    const input = db.namespace === undefined ? undefined : this.options?.static?.[db.namespace];
    if (input === undefined) return undefined;
    const fixed = createCatalog(dialectOf(db.system), input);
    this.entries.set(this.key(db), { fixed });
    return fixed;
  }

  /**
   * A driver reports a fresh connection and how to run a query on it. The first one per database
   * introspects; later ones only refresh the function used for refreshes (the newest connection).
   */
  connected(db: DbInfo, query: QueryFn): void {
    if (!this.introspect) return;
    const k = this.key(db);
    let e = this.entries.get(k);
    if (e?.fixed || (e === undefined && this.get(db))) return;
    e = this.entries.get(k) ?? {};
    e.query = query;
    if (!e.source) {
      // The source reads through e.query, so a refresh uses whichever connection reported last.
      e.source = new CatalogSource((sql) => e!.query!(sql), dialectOf(db.system));
      this.entries.set(k, e);
      this.refreshOne(e);
    }
  }

  /** After a statement that changed the schema succeeded. */
  afterStatement(db: DbInfo, analysis: Analysis): void {
    if (analysis.kind !== 'ddl' && !analysis.statements.some((s) => s.kind === 'ddl')) return;
    const e = this.entries.get(this.key(db));
    if (e?.source) this.refreshOne(e);
  }

  /** Re-reads every introspected catalog. */
  async refresh(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => (e.source ? this.refreshOne(e) : undefined)));
  }

  private refreshOne(e: Entry): Promise<void> {
    // Introspection queries are captured like any other statement, as querytrail's own.
    // A fresh context, not merged into the caller's: the app's actor or ORM model must not leak onto them.
    return contextStore.run(SYSTEM_CONTEXT, () => e.source!.refresh()).then(
      () => undefined,
      (err: unknown) => this.onError(err),
    );
  }
}
