/** What the parent (scripts/bench.mjs) and the worker processes agree on. */

export type Db = 'postgres' | 'mysql';
export type Variant = 'raw' | 'otel' | 'qt-async' | 'qt-sync';
export type Workload = 'W1' | 'W2' | 'W3';
/** W3 (PostgreSQL only): the ORM whose flow is measured, raw against instrumented by its querytrail plugin. */
export type Orm = 'prisma' | 'typeorm' | 'knex';

export interface WorkerSpec {
  db: Db;
  variant: Variant;
  workload: Workload;
  concurrency: number;
  queries: number;
  warmup: number;
  /** W3 only. */
  orm?: Orm;
  /** Extra journal options for querytrail variants (focused A/B runs, e.g. `{ "groupCommitMs": 0 }`). */
  journal?: Record<string, unknown>;
}

export interface WorkerResult {
  spec: WorkerSpec;
  queries: number;
  wallMs: number;
  qps: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** (user + system) CPU of the client process over the measured queries, divided by their number. */
  cpuUsPerQuery: number;
  p50Us: number;
  p99Us: number;
  /** Journal records (querytrail) or exported spans (OpenTelemetry) for the measured queries. */
  produced: number;
  /** Spans the batch processor dropped (queue full). */
  dropped: number;
}

export const POOL_SIZE = 10;

export const DB_CONFIG = {
  postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' },
  mysql: { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' },
} as const;

export const ITEMS_TABLE = 'qt_bench_items';
export const EVENTS_TABLE = 'qt_bench_events';
/** W3: 1,000 authors with 5 posts each (PostgreSQL only). */
export const AUTHORS_TABLE = 'qt_bench_author';
export const POSTS_TABLE = 'qt_bench_post';
export const W3_AUTHORS = 1000;

export const POINT_SELECT_SQL = {
  postgres: `SELECT id, name, email, balance, created_at FROM ${ITEMS_TABLE} WHERE id = $1`,
  mysql: `SELECT id, name, email, balance, created_at FROM ${ITEMS_TABLE} WHERE id = ?`,
} as const;

/** W1's key for query i: deterministic and spread over the whole table (7919 is prime, so every key is visited). */
export function pointKey(i: number): number {
  return ((i * 7919) % 10_000) + 1;
}

export const INSERT_SQL = {
  postgres: `INSERT INTO ${EVENTS_TABLE} (account_id, kind, amount) VALUES ($1, $2, $3)`,
  mysql: `INSERT INTO ${EVENTS_TABLE} (account_id, kind, amount) VALUES (?, ?, ?)`,
} as const;

/**
 * The connection and request context of the benches that call `auditor.begin(...).succeed()` without
 * a driver (journal, memory): what a pg pool client and an HTTP request would hand the auditor in W1.
 */
export const W1_DB = Object.freeze({
  system: 'postgresql' as const,
  namespace: 'test',
  user: 'postgres',
  server: Object.freeze({ address: '127.0.0.1', port: 5432 }),
  driver: 'pg',
  connection_id: '4242',
});
export const W1_CONTEXT = {
  actor: { type: 'human' as const, id: 'u42', name: 'Ada', roles: ['support'] },
  request: { id: 'req-1', method: 'GET', route: '/accounts/:id' },
};
