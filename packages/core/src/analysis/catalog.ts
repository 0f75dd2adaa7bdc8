/**
 * Tables and views with their ordered columns, per schema: what `*` and `t.*` expand to, and which
 * table an unqualified column belongs to. Lookups follow each dialect's identifier rules: PostgreSQL
 * names are exact (the parser has already folded unquoted names to lower case); MySQL/MariaDB match
 * exactly first, then case-insensitively (table-name case depends on lower_case_table_names, column
 * names never are case-sensitive).
 */
import type { Dialect } from './types.js';

export interface CatalogTable {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly string[];
  readonly type: 'table' | 'view';
}

export interface Catalog {
  readonly dialect: Dialect;
  /** Unique per catalog instance: part of the analysis cache key, so a refresh never serves stale objects. */
  readonly version: number;
  /** Schemas searched for unqualified names (PostgreSQL search_path; MySQL the current database). */
  readonly searchPath: readonly string[];
  lookup(schema: string | undefined, name: string): CatalogTable | undefined;
  tables(): readonly CatalogTable[];
}

export interface CatalogTableInput {
  schema: string;
  name: string;
  columns: readonly string[];
  type?: 'table' | 'view';
}

/** `{ public: { users: ['id', 'email'] } }` or a list of tables. */
export type CatalogInput = Iterable<CatalogTableInput> | Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

let nextVersion = 1;

function isIterable(x: CatalogInput): x is Iterable<CatalogTableInput> {
  return typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

export function createCatalog(dialect: Dialect, input: CatalogInput, opts: { searchPath?: readonly string[] } = {}): Catalog {
  const list: CatalogTable[] = [];
  if (isIterable(input)) {
    for (const t of input) list.push(Object.freeze({ schema: t.schema, name: t.name, columns: Object.freeze([...t.columns]), type: t.type ?? 'table' }));
  } else {
    for (const [schema, tables] of Object.entries(input)) {
      for (const [name, columns] of Object.entries(tables)) list.push(Object.freeze({ schema, name, columns: Object.freeze([...columns]), type: 'table' as const }));
    }
  }
  const exact = new Map<string, CatalogTable>();
  const folded = new Map<string, CatalogTable[]>();
  const byName = new Map<string, CatalogTable[]>();
  const key = (s: string, n: string): string => `${s}\u0000${n}`;
  for (const t of list) {
    exact.set(key(t.schema, t.name), t);
    const fk = key(t.schema.toLowerCase(), t.name.toLowerCase());
    folded.set(fk, [...(folded.get(fk) ?? []), t]);
    const nk = dialect === 'postgres' ? t.name : t.name.toLowerCase();
    byName.set(nk, [...(byName.get(nk) ?? []), t]);
  }
  const mysql = dialect !== 'postgres';
  const searchPath = Object.freeze([...(opts.searchPath ?? (mysql ? [] : ['public']))]);
  const inSchema = (schema: string, name: string): CatalogTable | undefined => {
    const e = exact.get(key(schema, name));
    if (e || !mysql) return e;
    const f = folded.get(key(schema.toLowerCase(), name.toLowerCase()));
    return f?.length === 1 ? f[0] : undefined;
  };
  const frozen = Object.freeze(list);
  return Object.freeze({
    dialect,
    version: nextVersion++,
    searchPath,
    lookup(schema: string | undefined, name: string): CatalogTable | undefined {
      if (schema !== undefined) return inSchema(schema, name);
      for (const s of searchPath) {
        const t = inSchema(s, name);
        if (t) return t;
      }
      // Not on the search path: accept a unique match in any schema (the catalog may not know the
      // session's search_path or current database).
      const cands = byName.get(mysql ? name.toLowerCase() : name) ?? [];
      if (cands.length === 1) return cands[0];
      if (mysql) {
        const ex = cands.filter((c) => c.name === name);
        if (ex.length === 1) return ex[0];
      }
      return undefined;
    },
    tables: () => frozen,
  });
}
