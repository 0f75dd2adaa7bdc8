/** Shared fixtures: the corpus location and the catalogs its expectations assume. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Catalog, createCatalog, type Dialect } from '../../src/analysis/index.js';

export interface CorpusEntry {
  id: string;
  dialect: 'pg' | 'mysql' | 'mariadb';
  cat: string;
  sql: string;
  classes: string[] | null;
  destructive: boolean | null;
  tables: string[] | null;
  columns: string[] | null;
  parseError?: boolean;
  note?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Repo root is three levels up from packages/core/test/analysis; the corpus sits beside the repo. */
export const CORPUS_PATH = resolve(here, '../../../..', '../shared/corpus/sql-classification.json');

export function loadCorpus(): CorpusEntry[] {
  if (!existsSync(CORPUS_PATH)) {
    throw new Error(`SQL classification corpus not found at ${CORPUS_PATH} (expected ../shared/corpus/sql-classification.json relative to the repo root)`);
  }
  return JSON.parse(readFileSync(CORPUS_PATH, 'utf8')) as CorpusEntry[];
}

export function dialectOf(e: CorpusEntry): Dialect {
  return e.dialect === 'pg' ? 'postgres' : e.dialect;
}

const shop = {
  users: ['id', 'email', 'name', 'ssn', 'password_hash', 'created_at', 'org_id'],
  orders: ['id', 'user_id', 'total', 'status', 'created_at'],
  order_items: ['id', 'order_id', 'product_id', 'qty', 'price'],
  products: ['id', 'name', 'price', 'sku'],
  t: ['id', 'a', 'b'],
  audit_log: ['id', 'actor', 'action', 'at'],
  sessions: ['id', 'user_id', 'token', 'expires_at'],
  accounts: ['id', 'owner_id', 'balance'],
};

export const PG_CATALOG: Catalog = createCatalog('postgres', {
  public: {
    ...shop,
    User: ['id', 'email', 'name', 'ssn', 'createdAt'],
    Post: ['id', 'title', 'authorId', 'published'],
  },
});

export const MY_CATALOG: Catalog = createCatalog('mysql', {
  shop,
  mydb: { User: ['id', 'email', 'name', 'ssn', 'createdAt'] },
});

export const MARIA_CATALOG: Catalog = createCatalog('mariadb', { shop });

export function catalogFor(d: Dialect): Catalog {
  return d === 'postgres' ? PG_CATALOG : d === 'mysql' ? MY_CATALOG : MARIA_CATALOG;
}
