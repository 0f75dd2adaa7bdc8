/**
 * One measurement, in its own process: a driver loaded one way (raw, OpenTelemetry-instrumented, or
 * instrumented by querytrail in async or sync mode), a warm-up, then a fixed number of queries at a
 * fixed concurrency. Prints one JSON line (a `WorkerResult`) on stdout. scripts/bench.mjs runs it:
 *   node --import tsx bench/worker.ts '{"db":"postgres","variant":"raw","workload":"W1","concurrency":1,"queries":2000,"warmup":500}'
 *
 * OpenTelemetry patches the driver module when it is required, so every variant gets a fresh process
 * and the drivers are loaded with require() after the instrumentations are registered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { drive } from './drive.js';
import { makeOrmRunner } from './orm.js';
import { DB_CONFIG, type Db, INSERT_SQL, POINT_SELECT_SQL, POOL_SIZE, pointKey, type Variant, type WorkerResult, type WorkerSpec, type Workload } from './shared.js';

const require = createRequire(import.meta.url);

interface Runner {
  /** One query of the workload; `i` picks the key/values deterministically. */
  op(i: number): Promise<void>;
  /** Waits until the variant's background work for everything so far is done (journal flush, span export). */
  settle(): Promise<void>;
  /** Evidence records or spans produced, to prove the instrumentation was active. */
  produced(): number;
  dropped(): number;
  close(): Promise<void>;
}

type Auditor = import('@querytrail/core').Auditor;

// ---- variant setup (before the driver is loaded) -----------------------------------------------

interface OtelHandle {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  exported: number;
  dropped: number;
}

function setUpOtel(db: Db): OtelHandle {
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  type ReadableSpan = import('@opentelemetry/sdk-trace-base').ReadableSpan;
  type SpanExporter = import('@opentelemetry/sdk-trace-base').SpanExporter;

  const handle: OtelHandle = { exported: 0, dropped: 0, forceFlush: async () => {}, shutdown: async () => {} };
  // What a team runs today minus the network: a batch processor with its defaults and an exporter
  // that accepts every span and discards it.
  const exporter: SpanExporter = {
    export(spans: ReadableSpan[], done) {
      handle.exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(provider);
  api.diag.setLogger(
    {
      warn: (msg: string) => {
        const m = /Dropped (\d+) spans/.exec(msg);
        if (m) handle.dropped += Number(m[1]);
      },
      error: () => {},
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    api.DiagLogLevel.WARN,
  );
  if (db === 'postgres') {
    const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
    registerInstrumentations({ instrumentations: [new PgInstrumentation()], tracerProvider: provider });
  } else {
    const { MySQL2Instrumentation } = require('@opentelemetry/instrumentation-mysql2') as typeof import('@opentelemetry/instrumentation-mysql2');
    registerInstrumentations({ instrumentations: [new MySQL2Instrumentation()], tracerProvider: provider });
  }
  handle.forceFlush = () => provider.forceFlush();
  handle.shutdown = () => provider.shutdown();
  return handle;
}

async function setUpQuerytrail(mode: 'async' | 'sync', dir: string, extra: Record<string, unknown> | undefined): Promise<Auditor> {
  // Imported as an application would: the package name resolves to the built dist.
  const { createAuditor } = await import('@querytrail/core');
  const auditor = createAuditor({ service: { name: 'querytrail-bench', env: 'bench' }, journal: { ...extra, dir, mode } });
  await auditor.ready();
  return auditor;
}

// ---- drivers -----------------------------------------------------------------------------------

function values(workload: Workload, i: number): unknown[] {
  if (workload === 'W1') return [pointKey(i)];
  return [(i % 1000) + 1, i % 2 === 0 ? 'deposit' : 'withdrawal', (i * 37) % 100_000];
}

function pgRunner(spec: WorkerSpec, instrument: (pool: object) => void, extra: Omit<Runner, 'op' | 'close'>): Runner {
  const pg = require('pg') as typeof import('pg');
  const pool = new pg.Pool({ ...DB_CONFIG.postgres, max: POOL_SIZE });
  instrument(pool);
  const sql = spec.workload === 'W1' ? POINT_SELECT_SQL.postgres : INSERT_SQL.postgres;
  return {
    ...extra,
    async op(i) {
      const r = await pool.query(sql, values(spec.workload, i));
      if (spec.workload === 'W1' && r.rows.length !== 1) throw new Error('point select returned no row');
    },
    close: () => pool.end(),
  };
}

function mysqlRunner(spec: WorkerSpec, instrument: (pool: object) => void, extra: Omit<Runner, 'op' | 'close'>): Runner {
  const mysql = require('mysql2') as typeof import('mysql2');
  const pool = mysql.createPool({ ...DB_CONFIG.mysql, connectionLimit: POOL_SIZE }).promise();
  instrument(pool);
  const sql = spec.workload === 'W1' ? POINT_SELECT_SQL.mysql : INSERT_SQL.mysql;
  return {
    ...extra,
    async op(i) {
      // execute: a server-side prepared statement (mysql2 caches it per connection), parameters sent apart.
      const [rows] = await pool.execute(sql, values(spec.workload, i) as (string | number)[]);
      if (spec.workload === 'W1' && (rows as unknown[]).length !== 1) throw new Error('point select returned no row');
    },
    close: () => pool.end(),
  };
}

/** W3: an ORM's operation, raw or with its querytrail plugin (async journal). */
async function makeOrmFlowRunner(spec: WorkerSpec, journalDir: string): Promise<{ runner: Runner; auditor?: Auditor }> {
  if (!spec.orm || spec.db !== 'postgres') throw new Error('W3 needs an orm and db postgres');
  if (spec.variant !== 'raw' && spec.variant !== 'qt-async') throw new Error(`W3 compares raw and qt-async, not ${spec.variant}`);
  const auditor = spec.variant === 'raw' ? undefined : await setUpQuerytrail('async', journalDir, spec.journal);
  const orm = await makeOrmRunner(spec.orm, auditor);
  const runner: Runner = auditor
    ? { op: orm.op, settle: () => auditor.flush(), produced: () => auditor.journal!.lastSeq, dropped: () => 0, close: async () => {
        await orm.close();
        await auditor.close();
      } }
    : { op: orm.op, settle: async () => {}, produced: () => 0, dropped: () => 0, close: orm.close };
  return auditor ? { runner, auditor } : { runner };
}

async function makeRunner(spec: WorkerSpec, journalDir: string): Promise<{ runner: Runner; auditor?: Auditor }> {
  if (spec.workload === 'W3') return makeOrmFlowRunner(spec, journalDir);
  const make = spec.db === 'postgres' ? pgRunner : mysqlRunner;
  const variant: Variant = spec.variant;
  if (variant === 'raw') {
    return { runner: make(spec, () => {}, { settle: async () => {}, produced: () => 0, dropped: () => 0 }) };
  }
  if (variant === 'otel') {
    const otel = setUpOtel(spec.db);
    const runner = make(spec, () => {}, { settle: () => otel.forceFlush(), produced: () => otel.exported, dropped: () => otel.dropped });
    const close = runner.close;
    runner.close = async () => {
      await close();
      await otel.shutdown();
    };
    return { runner };
  }
  const auditor = await setUpQuerytrail(variant === 'qt-sync' ? 'sync' : 'async', journalDir, spec.journal);
  const journal = auditor.journal!;
  const instrument = spec.db === 'postgres' ? (p: object) => auditor.instrumentPg(p) : (p: object) => auditor.instrumentMysql2(p);
  const runner = make(spec, instrument, { settle: () => auditor.flush(), produced: () => journal.lastSeq, dropped: () => 0 });
  const close = runner.close;
  runner.close = async () => {
    await close();
    // mysql2 reports its connections' end a moment after pool.end() resolves: let those events in first.
    await new Promise((r) => setTimeout(r, 100));
    await auditor.close();
  };
  return { runner, auditor };
}

// ---- measurement -------------------------------------------------------------------------------

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as WorkerSpec;
  const journalDir = mkdtempSync(join(process.env.BENCH_JOURNAL_DIR ?? tmpdir(), 'qt-bench-journal-'));
  try {
    const { runner, auditor } = await makeRunner(spec, journalDir);
    const body = async (): Promise<WorkerResult> => {
      // Warm-up: connections opened, JIT warm, statement analysed and cached, server caches warm.
      await drive(runner.op, 0, spec.warmup, spec.concurrency);
      await runner.settle();
      const producedBefore = runner.produced();
      if (global.gc) global.gc();

      const latencies = new Float64Array(spec.queries);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await drive(runner.op, spec.warmup, spec.queries, spec.concurrency, latencies);
      // The variant's background work for these queries (journal writes, span export) is part of its cost.
      await runner.settle();
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);

      latencies.sort();
      const produced = runner.produced() - producedBefore;
      await runner.close();
      return {
        spec,
        queries: spec.queries,
        wallMs,
        qps: (spec.queries / wallMs) * 1000,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        cpuUsPerQuery: (cpu.user + cpu.system) / spec.queries,
        p50Us: quantile(latencies, 0.5) * 1000,
        p99Us: quantile(latencies, 0.99) * 1000,
        produced,
        dropped: runner.dropped(),
      };
    };
    // querytrail variants run under one actor context, as a request handler would.
    const result = auditor
      ? await auditor.runWithContext({ actor: { type: 'service', id: 'bench-worker' }, request: { id: `bench-${process.pid}` } }, body)
      : await body();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
