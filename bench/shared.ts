/** What the parent (scripts/bench.mjs) and the worker processes agree on. */

export type Db = 'postgres' | 'mysql';
export type Variant = 'raw' | 'otel' | 'qt-async' | 'qt-sync';
export type Workload = 'W1' | 'W2';

export interface WorkerSpec {
  db: Db;
  variant: Variant;
  workload: Workload;
  concurrency: number;
  queries: number;
  warmup: number;
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

export const POINT_SELECT_SQL = {
  postgres: `SELECT id, name, email, balance, created_at FROM ${ITEMS_TABLE} WHERE id = $1`,
  mysql: `SELECT id, name, email, balance, created_at FROM ${ITEMS_TABLE} WHERE id = ?`,
} as const;

export const INSERT_SQL = {
  postgres: `INSERT INTO ${EVENTS_TABLE} (account_id, kind, amount) VALUES ($1, $2, $3)`,
  mysql: `INSERT INTO ${EVENTS_TABLE} (account_id, kind, amount) VALUES (?, ?, ?)`,
} as const;
