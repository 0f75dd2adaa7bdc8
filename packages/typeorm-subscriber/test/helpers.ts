import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditorOptions, createAuditor, listSegments, loadAnalyzers, type PolicyInput, type QuerytrailEvent } from '@querytrail/core';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DataSource, DataSourceOptions, Logger } from 'typeorm';
import { instrumentTypeorm, type TypeormInstrumentationOptions } from '@querytrail/typeorm';
import { validatingListener } from '../../core/test/support/valid-events.js';
import type { makeEntities } from './entities.js';
import type { TypeormModule } from './versions.js';

await loadAnalyzers();

export type Kind = 'postgres' | 'mariadb';

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
export const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' } as const;

/** A change window that is never open: destructive statements are blocked. */
export const NEVER_OPEN: PolicyInput = {
  version: 1,
  mode: 'enforce',
  windows: [{ id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-01T01:00:00Z' }],
  destructive: { windows: ['never'] },
};

export function dataSourceOptions(kind: Kind, extra: Partial<DataSourceOptions> & { username?: string; password?: string } = {}): DataSourceOptions {
  const base =
    kind === 'postgres'
      ? { type: 'postgres' as const, host: PG.host, port: PG.port, username: PG.user, database: PG.database }
      : // connectorPackage: what docs/typeorm.md tells 0.3.x users to set (1.x has no such option, and ignores it).
        { type: 'mariadb' as const, host: MY.host, port: MY.port, username: MY.user, password: MY.password, database: MY.database, connectorPackage: 'mysql2' };
  return { ...base, ...extra } as DataSourceOptions;
}

/** Runs SQL on a fresh connection that querytrail does not see (setup, teardown, checks). */
export async function admin(kind: Kind, sql: string, values?: unknown[]): Promise<Array<Record<string, unknown>>> {
  if (kind === 'postgres') {
    const c = new pg.Client(PG);
    await c.connect();
    try {
      return (await c.query(sql, values)).rows;
    } finally {
      await c.end();
    }
  }
  const c = await mysql.createConnection({ ...MY });
  try {
    const [rows] = await c.query(sql, values);
    return rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

/** Creates the entities' tables with TypeORM's own synchronize, on a DataSource querytrail does not see. */
export async function createTables(typeorm: TypeormModule, kind: Kind, entities: ReturnType<typeof makeEntities>): Promise<void> {
  await dropTables(kind, entities);
  const ds = new typeorm.DataSource(dataSourceOptions(kind, { entities: entities.schemas, synchronize: true }));
  await ds.initialize();
  await ds.destroy();
}

export async function dropTables(kind: Kind, entities: ReturnType<typeof makeEntities>): Promise<void> {
  const q = kind === 'postgres' ? '"' : '`';
  await admin(kind, `DROP TABLE IF EXISTS ${q}${entities.tables.post}${q}`);
  await admin(kind, `DROP TABLE IF EXISTS ${q}${entities.tables.author}${q}`);
}

/** Every statement TypeORM hands to a query runner, as TypeORM's own logger sees it. */
export class RecordingLogger implements Logger {
  readonly queries: string[] = [];
  /** Statements TypeORM reported as failed (a block, early or at the driver, is one). */
  readonly errors: string[] = [];
  logQuery(query: string): void {
    this.queries.push(query);
  }
  logQueryError(_error: string | Error, query: string): void {
    this.errors.push(query);
  }
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export interface Harness {
  ds: DataSource;
  auditor: ReturnType<typeof createAuditor>;
  events: QuerytrailEvent[];
  logger: RecordingLogger;
  /** db.query events (the records of statements sent). */
  queries(): QuerytrailEvent[];
  clear(): void;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The TypeORM version under test (its DataSource class is used). */
  typeorm: TypeormModule;
  entities: ReturnType<typeof makeEntities>;
  auditor?: Partial<AuditorOptions>;
  plugin?: TypeormInstrumentationOptions;
  dataSource?: Partial<DataSourceOptions> & { username?: string; password?: string };
}

/** An instrumented, initialized DataSource with an in-memory auditor (raw params, no catalog). */
export async function openHarness(kind: Kind, options: HarnessOptions): Promise<Harness> {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'typeorm-test' },
    journal: false,
    params: { mode: 'raw' },
    catalog: { mode: false },
    onEvent: validatingListener((e) => events.push(e)),
    ...options.auditor,
  });
  const logger = new RecordingLogger();
  const ds = new options.typeorm.DataSource(dataSourceOptions(kind, { entities: options.entities.schemas, logger, logging: true, ...options.dataSource }));
  instrumentTypeorm(ds, auditor, options.plugin);
  await ds.initialize();
  return {
    ds,
    auditor,
    events,
    logger,
    queries: () => events.filter((e) => e.type === 'db.query'),
    clear() {
      events.length = 0;
      logger.queries.length = 0;
      logger.errors.length = 0;
    },
    async close() {
      if (ds.isInitialized) await ds.destroy();
      await auditor.close();
    },
  };
}

/** The records of a journal directory, in chain order. */
export function readJournal(dir: string): QuerytrailEvent[] {
  const out: QuerytrailEvent[] = [];
  for (const s of listSegments(dir)) {
    for (const line of readFileSync(join(dir, s.file), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as QuerytrailEvent);
  }
  return out;
}

/** Sorted copy, for comparing multisets of statement texts. */
export function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}
