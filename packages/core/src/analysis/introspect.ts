/**
 * Builds a Catalog from information_schema (tables and views), through a function that runs a query
 * (on a short-lived connection querytrail opens for itself: auditor/catalogs.ts), and keeps it fresh:
 * refreshed after DDL and on demand.
 */
import type { Analysis, Dialect } from './types.js';
import { type Catalog, type CatalogTableInput, createCatalog } from './catalog.js';

export type QueryFn = (sql: string) => Promise<Array<Record<string, unknown>>>;

const PG_COLUMNS = `SELECT c.table_schema AS table_schema, c.table_name AS table_name, c.column_name AS column_name,
  c.ordinal_position AS ordinal_position, t.table_type AS table_type, current_schemas(false)::text AS search_path
FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
ORDER BY c.table_schema, c.table_name, c.ordinal_position`;

const MY_COLUMNS = `SELECT c.TABLE_SCHEMA AS table_schema, c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name,
  c.ORDINAL_POSITION AS ordinal_position, t.TABLE_TYPE AS table_type, DATABASE() AS current_db
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION`;

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

function field(row: Record<string, unknown>, name: string): unknown {
  return row[name] ?? row[name.toUpperCase()];
}

export async function introspectCatalog(query: QueryFn, dialect: Dialect): Promise<Catalog> {
  const mysql = dialect !== 'postgres';
  const rows = await query(mysql ? MY_COLUMNS : PG_COLUMNS);
  const tables = new Map<string, CatalogTableInput & { columns: string[]; pos: number[] }>();
  for (const row of rows) {
    const schema = text(field(row, 'table_schema'));
    const name = text(field(row, 'table_name'));
    const column = text(field(row, 'column_name'));
    if (schema === undefined || name === undefined || column === undefined) continue;
    const key = `${schema}\u0000${name}`;
    let t = tables.get(key);
    if (!t) {
      const type = text(field(row, 'table_type')) ?? '';
      t = { schema, name, columns: [], pos: [], type: /VIEW/i.test(type) ? 'view' : 'table' };
      tables.set(key, t);
    }
    t.columns.push(column);
    t.pos.push(Number(field(row, 'ordinal_position') ?? t.pos.length + 1));
  }
  // Column order is ordinal order (MariaDB does not always honour ORDER BY on information_schema).
  for (const t of tables.values()) {
    const order = t.columns.map((c, i) => ({ c, p: t.pos[i] ?? i })).sort((a, b) => a.p - b.p);
    t.columns = order.map((x) => x.c);
  }
  // The search path comes with the columns: one round trip, so that the application's own statements
  // on this fresh connection never queue behind a second introspection query (pg deprecates queueing).
  let searchPath: string[] = [];
  const first = rows[0];
  if (first) {
    if (mysql) {
      const db = text(field(first, 'current_db'));
      if (db) searchPath = [db];
    } else {
      const sp = text(field(first, 'search_path'));
      if (sp) searchPath = sp.replace(/^\{|\}$/g, '').split(',').map((x) => x.replace(/^"|"$/g, '')).filter((x) => x !== '');
    }
  }
  return createCatalog(dialect, tables.values(), searchPath.length > 0 ? { searchPath } : {});
}

/**
 * Holds the current catalog for one database: introspected on first use, refreshed after any DDL
 * analysis passes through noteAnalysis(), and on demand with refresh().
 */
export class CatalogSource {
  private cat: Catalog | undefined;
  private pending: Promise<Catalog> | undefined;

  constructor(
    private readonly query: QueryFn,
    private readonly dialect: Dialect,
  ) {}

  get current(): Catalog | undefined {
    return this.cat;
  }

  refresh(): Promise<Catalog> {
    if (!this.pending) {
      this.pending = introspectCatalog(this.query, this.dialect)
        .then((c) => {
          this.cat = c;
          return c;
        })
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending;
  }

  /** Call after a statement succeeded: DDL changes the schema, so the catalog is refreshed. */
  noteAnalysis(a: Analysis): void {
    if (a.statements.some((s) => s.kind === 'ddl')) this.refresh().catch(() => undefined);
  }
}
