/** Shared helpers for the policy tests: real analysis (the WASM parsers), a decide() shorthand. */
import { analyze, type Catalog, createCatalog, type Dialect, loadAnalyzers } from '../../src/analysis/index.js';
import type { AuditContext } from '../../src/context/types.js';
import type { DbInfo } from '../../src/event/types.js';
import type { CompiledPolicy, Decision } from '../../src/policy/index.js';

export const ready = loadAnalyzers();

export const PG_CATALOG: Catalog = createCatalog(
  'postgres',
  [
    { schema: 'public', name: 'users', columns: ['id', 'email', 'name', 'ssn', 'password_hash', 'org_id'] },
    { schema: 'public', name: 'orders', columns: ['id', 'user_id', 'total', 'card_number'] },
    { schema: 'public', name: 'Patients', columns: ['id', 'Diagnosis'] },
    { schema: 'billing', name: 'invoices', columns: ['id', 'amount', 'iban'] },
    { schema: 'reporting', name: 'customer_contacts', columns: ['id', 'contact_email', 'name'], type: 'view' },
  ],
  { searchPath: ['public'] },
);

export const MY_CATALOG: Catalog = createCatalog('mysql', { shop: { Users: ['Id', 'Email', 'Name'], orders: ['id', 'user_id', 'total'] } }, { searchPath: ['shop'] });

export const PG_DB: DbInfo = { system: 'postgresql', driver: 'pg', namespace: 'app' };
export const MY_DB: DbInfo = { system: 'mysql', driver: 'mysql2', namespace: 'shop' };

export function pg(sql: string, catalog: Catalog | undefined = PG_CATALOG) {
  return analyze(sql, { dialect: 'postgres', catalog });
}
export function my(sql: string, catalog: Catalog | undefined = MY_CATALOG, dialect: Dialect = 'mysql') {
  return analyze(sql, { dialect, catalog });
}

export const alice: AuditContext = { actor: { type: 'human', id: 'alice', roles: ['dba'] }, source: 'workstation' };
export const bob: AuditContext = { actor: { type: 'human', id: 'bob', roles: ['developer'] }, source: 'app' };

export interface DecideOpts {
  context?: AuditContext | undefined;
  db?: DbInfo;
  env?: string;
  now?: number;
  dialect?: 'postgres' | 'mysql';
  catalog?: Catalog | undefined;
  paramCount?: number;
}

/** Decide on a statement text, analysed for real. */
export function decide(policy: CompiledPolicy, sql: string, o: DecideOpts = {}): Decision {
  const mysql = o.dialect === 'mysql';
  const catalog = 'catalog' in o ? o.catalog : mysql ? MY_CATALOG : PG_CATALOG;
  const analysis = analyze(sql, { dialect: mysql ? 'mysql' : 'postgres', catalog });
  return policy.decide({
    analysis,
    context: 'context' in o ? o.context : alice,
    db: o.db ?? (mysql ? MY_DB : PG_DB),
    service: o.env === undefined ? {} : { env: o.env },
    now: o.now ?? Date.parse('2026-04-01T12:00:00Z'),
    ...(o.paramCount === undefined ? {} : { paramCount: o.paramCount }),
  });
}

export const at = (s: string): number => Date.parse(s);
