import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createAuditor, QueryBlockedError, type QuerytrailEvent } from '@querytrail/core';
import { kStatementGate, type Auditor } from '../../src/auditor/auditor.js';
import type { AuditorOptions } from '../../src/auditor/options.js';
import { loadAnalyzers } from '../../src/analysis/index.js';
import { validatingListener } from '../support/valid-events.js';

// Statements are analysed as they are sent once the parsers are loaded; load them before any test runs.
await loadAnalyzers();

export const PG_CONFIG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

export interface Harness {
  auditor: Auditor;
  events: QuerytrailEvent[];
  /** db.query events, in emission order. */
  queries(): QuerytrailEvent[];
  /** db.query events whose text contains `marker`. */
  withText(marker: string): QuerytrailEvent[];
  clear(): void;
}

export function harness(extra: Partial<AuditorOptions> = {}): Harness {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'test' },
    journal: false,
    params: { mode: 'raw' },
    // Driver tests count statements exactly; catalog introspection is tested in test/catalog.
    catalog: { mode: false },
    onEvent: validatingListener((e) => events.push(e)),
    ...extra,
  });
  return {
    auditor,
    events,
    queries: () => events.filter((e) => e.type === 'db.query'),
    withText: (marker) => events.filter((e) => e.type === 'db.query' && (e.statement?.text ?? '').includes(marker)),
    clear: () => {
      events.length = 0;
    },
  };
}

/** Refuses every statement whose text mentions "forbidden", as a policy would. */
export function blockForbidden(auditor: Auditor): void {
  auditor[kStatementGate] = (start) => {
    if (/forbidden/.test(start.text ?? '')) throw new QueryBlockedError('test');
  };
}

export function uniqueTable(): string {
  return `qt_pg_${randomBytes(6).toString('hex')}`;
}

/** Runs SQL on a fresh, uninstrumented client (setup / teardown / checks). */
export async function admin<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]> {
  const c = new pg.Client(PG_CONFIG);
  await c.connect();
  try {
    const r = await c.query(text, values);
    return r.rows as T[];
  } finally {
    await c.end();
  }
}

export async function createTable(name: string): Promise<void> {
  await admin(`CREATE TABLE ${name} (id int PRIMARY KEY, v text)`);
  await admin(`INSERT INTO ${name} SELECT g, 'v' || g FROM generate_series(1, 10) g`);
}

export async function dropTable(name: string): Promise<void> {
  await admin(`DROP TABLE IF EXISTS ${name}`);
}

/** Waits for pending callbacks / microtasks so every event of a finished statement is emitted. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function only<T>(list: T[], what: string): T {
  if (list.length !== 1) throw new Error(`expected exactly one ${what}, got ${list.length}`);
  return list[0]!;
}

/** The backend process id of a connected client (not in @types/pg). */
export function backendPid(client: pg.Client | pg.PoolClient): string {
  return String((client as unknown as { processID: number }).processID);
}

/** client.query with any submittable (@types/pg only types its own). */
export function submit(client: pg.ClientBase, submittable: object, callback?: (err: Error) => void): unknown {
  return (client.query as unknown as (q: object, cb?: (err: Error) => void) => unknown).call(client, submittable, callback);
}
