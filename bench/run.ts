/**
 * The benchmark driver behind `npm run bench` (scripts/bench.mjs builds core, makes sure the servers
 * are up, then runs this file with tsx). Writes docs/benchmarks.md and docs/benchmarks.json.
 *
 * Every comparison runs its variants alternated over rounds: in round r each variant's worker process
 * runs in turn (the order rotated by r), each doing its own warm-up and then a fixed number of
 * queries. Ratios and CPU differences are computed per round against the raw driver of the same
 * round (paired), then summarised by their median: on a noisy 2-core machine shared with the database
 * servers, a single absolute time means little, a paired ratio much more.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createTables, dropTables, rowCount, serverVersion } from './db.js';
import { renderMarkdown } from './report.js';
import { sampleEvent } from './sample-event.js';
import type { MemoryRun } from './memory.bench.js';
import { type Db, EVENTS_TABLE, type Orm, POOL_SIZE, type Variant, type WorkerResult, type WorkerSpec, type Workload } from './shared.js';
import { median, rotate, type Spread, spread } from './stats.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

// ---- configuration -----------------------------------------------------------------------------

const env = process.env;
const quick = env.BENCH_QUICK === '1';
const int = (name: string, dflt: number, min = 1): number => {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
};
// Measured windows of a few seconds. The targets are steady-state costs of repeated statements: with a
// short warm-up the window holds JIT compilation (more code to compile in the instrumented variants),
// which a long-running service pays once, and a short window (4,000 queries, a quarter of a second at
// concurrency 32) carries a fixed cost of its own. Measured on this machine (bench/notes.md, session 5):
// the raw driver's W1 c32 CPU per query was 63-83 µs in 4,000-query windows against 41-51 µs in
// 20,000-query ones (paired standalone runs: rounds within ±2 µs of their median, against ±15 µs before).
// BENCH_QUERIES sets every comparison's measured queries; by default they are sized per comparison
// (windowQueries) so that each window lasts about 2 s at the raw driver's rate here.
const queriesOverride = env.BENCH_QUERIES ? int('BENCH_QUERIES', 1) : undefined;
const queries = queriesOverride ?? (quick ? 300 : 20_000);
export const config = {
  quick,
  rounds: int('BENCH_ROUNDS', quick ? 2 : 5),
  queries,
  warmup: int('BENCH_WARMUP', quick ? 300 : 10_000),
  journalEvents: int('BENCH_JOURNAL_EVENTS', quick ? 10_000 : 100_000),
  /** Audited statements for the memory measurement (sink down); the target is stated over 1,000,000. */
  memoryStatements: int('BENCH_MEMORY_STATEMENTS', quick ? 200_000 : 1_000_000),
  /**
   * Statements per second of the memory runs: 50,000, five times the raw driver's W1 c32 throughput on
   * this machine (about 10,000/s), so that the journal is not the bottleneck. A third run is unpaced
   * (overload: the journal's bound and its sink.gap records at work).
   */
  memoryRate: int('BENCH_MEMORY_RATE', 50_000),
  /** Pause before each worker (settleMachine). */
  pauseMs: int('BENCH_PAUSE_MS', quick ? 0 : 1000, 0),
  /** W3 (ORM flow) concurrency. */
  ormConcurrency: int('BENCH_ORM_CONCURRENCY', 32),
  analysisRuns: int('BENCH_ANALYSIS_RUNS', quick ? 1 : 3),
  dbs: (env.BENCH_DBS ?? 'postgres,mysql').split(',').map((s) => s.trim()) as Db[],
  poolSize: POOL_SIZE,
  cpuProfDir: env.BENCH_CPU_PROF ? resolve(env.BENCH_CPU_PROF) : undefined,
  outDir: resolve(env.BENCH_OUT ?? 'docs'),
  journalBase: env.BENCH_JOURNAL_DIR ? resolve(env.BENCH_JOURNAL_DIR) : tmpdir(),
};
for (const d of config.dbs) if (d !== 'postgres' && d !== 'mysql') throw new Error(`BENCH_DBS: unknown database ${d} (postgres, mysql)`);

export const VARIANTS: Variant[] = ['raw', 'otel', 'qt-async', 'qt-sync'];

export interface Comparison {
  id: string;
  db: Db;
  workload: Workload;
  concurrency: number;
  /** W3: the ORM measured. */
  orm?: Orm;
  /** The variants compared (rotated over rounds); raw first. */
  compared: Variant[];
}

export const ORMS: Orm[] = ['prisma', 'typeorm', 'knex'];
// W3 (ORM flow): PostgreSQL only, raw ORM against ORM + its querytrail plugin (async journal).
const W3_VARIANTS: Variant[] = ['raw', 'qt-async'];

const comparisons: Comparison[] = [
  ...config.dbs.flatMap((db) => [
    { id: `W1-${db}-c1`, db, workload: 'W1' as const, concurrency: 1, compared: VARIANTS },
    { id: `W1-${db}-c32`, db, workload: 'W1' as const, concurrency: 32, compared: VARIANTS },
    { id: `W2-${db}-c32`, db, workload: 'W2' as const, concurrency: 32, compared: VARIANTS },
  ]),
  ...(config.dbs.includes('postgres')
    ? ORMS.map((orm) => ({ id: `W3-${orm}-c${config.ormConcurrency}`, db: 'postgres' as const, workload: 'W3' as const, concurrency: config.ormConcurrency, orm, compared: W3_VARIANTS }))
    : []),
];

/**
 * Measured queries of one comparison: BENCH_QUERIES if set, else about 2 s of the raw driver here.
 * Concurrency 1 and the ORM flows run 3-5 times fewer queries per second than a driver at
 * concurrency 32 (and sync mode at concurrency 1 some 10 times fewer), so they get fewer.
 */
export function windowQueries(c: Comparison): number {
  if (queriesOverride !== undefined || quick) return queries;
  return c.concurrency === 1 || c.workload === 'W3' ? Math.round(queries * 0.4) : queries;
}

/** "8000-20000", or one number when every comparison measures the same. */
function windowRange(): string {
  const sizes = comparisons.map(windowQueries);
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

function commandLine(): string {
  const set = Object.keys(env)
    .filter((k) => k.startsWith('BENCH_'))
    .sort()
    .map((k) => `${k}=${env[k]}`);
  return [...set, 'npm run bench'].join(' ');
}

// ---- child processes ---------------------------------------------------------------------------

function runNode(args: string[], { timeoutMs, profName }: { timeoutMs: number; profName?: string }): Promise<string> {
  const prof = config.cpuProfDir && profName ? ['--cpu-prof', `--cpu-prof-dir=${config.cpuProfDir}`, `--cpu-prof-name=${profName}.cpuprofile`] : [];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...prof, ...args], { cwd: root, env: { ...env, BENCH_JOURNAL_DIR: config.journalBase }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} took longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${args.slice(0, 3).join(' ')} exited with ${code}:\n${err.trim()}`));
    });
  });
}

async function withRetry<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    console.warn(`bench: ${what} failed, retrying once: ${(e as Error).message}`);
    return fn();
  }
}

/**
 * Before each worker: dirty pages written out and a pause, so that what the previous worker left behind
 * (the kernel writing back its journal, the servers' background work after a burst of inserts) runs
 * now and not inside the next measurement. Seen here (session 5): W1 mysql c32 querytrail async right
 * after a sync-mode run measured 64-71 µs of CPU per query, with the pause 51-53.
 */
async function settleMachine(): Promise<void> {
  try {
    execFileSync('sync');
  } catch {
    // not fatal: the pause still helps
  }
  if (config.pauseMs > 0) await new Promise((r) => setTimeout(r, config.pauseMs));
}

async function runWorker(spec: WorkerSpec, round: number): Promise<WorkerResult> {
  await settleMachine();
  const profName = `${spec.workload}-${spec.orm ?? spec.db}-c${spec.concurrency}-${spec.variant}-r${round}`;
  const out = await withRetry(profName, () =>
    runNode(['--import', 'tsx', 'bench/worker.ts', JSON.stringify(spec)], { timeoutMs: 300_000, profName }),
  );
  const line = out.trim().split('\n').at(-1)!;
  return JSON.parse(line) as WorkerResult;
}

// ---- machine -----------------------------------------------------------------------------------

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function fsTypeOf(path: string): string {
  try {
    let best = { mount: '', type: 'unknown', dev: '' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [dev, mount, type] = line.split(' ');
      if (!dev || !mount || !type) continue;
      if ((path === mount || path.startsWith(mount.endsWith('/') ? mount : `${mount}/`)) && mount.length >= best.mount.length) best = { mount, type, dev };
    }
    return `${best.type} (${best.dev} on ${best.mount})`;
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', ['--no-optional-locks', ...args], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** A few microseconds of pure CPU work, to compare absolute numbers between machines. */
function speedProbe(): { stringifyUs: number; sha256Us: number; bytes: number } {
  const ev = sampleEvent(1);
  const run = (f: () => void): number => {
    const batches: number[] = [];
    for (let b = 0; b < 7; b++) {
      const t0 = performance.now();
      for (let i = 0; i < 2000; i++) f();
      batches.push(((performance.now() - t0) * 1000) / 2000);
    }
    return median(batches);
  };
  const line = JSON.stringify(ev);
  const buf = Buffer.from(line);
  return {
    bytes: buf.length,
    stringifyUs: run(() => JSON.stringify(ev)),
    sha256Us: run(() => createHash('sha256').update(buf).digest()),
  };
}

async function machine(): Promise<Record<string, unknown>> {
  const servers: Record<string, string> = {};
  for (const db of config.dbs) servers[db] = await serverVersion(db);
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    packages: Object.fromEntries(
      [
        'pg',
        'mysql2',
        '@opentelemetry/api',
        '@opentelemetry/sdk-trace-base',
        '@opentelemetry/instrumentation',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-mysql2',
        'tsx',
        '@prisma/client',
        '@prisma/adapter-pg',
        'typeorm',
        'knex',
      ].map((p) => [p, pkgVersion(p)]),
    ),
    querytrailCore: pkgVersion('@querytrail/core'),
    servers,
    journalDir: config.journalBase,
    journalFs: fsTypeOf(config.journalBase),
    gitCommit: git(['rev-parse', 'HEAD']),
    coreUncommittedChanges: git(['status', '--porcelain', '--', 'packages/core']).split('\n').filter(Boolean).length,
    speedProbe: speedProbe(),
  };
}

// ---- summaries ---------------------------------------------------------------------------------

export interface VariantSummary {
  qps: Spread;
  cpuUsPerQuery: Spread;
  p50Us: Spread;
  p99Us: Spread;
  producedPerQuery: number;
  dropped: number;
}
export interface PairedSummary {
  qpsRatio: Spread;
  cpuDeltaUs: Spread;
}
export interface ComparisonSummary extends Comparison {
  variants: Partial<Record<Variant, VariantSummary>>;
  /** Per-round paired against raw. */
  paired: Partial<Record<Variant, PairedSummary>>;
  /** Per-round qt-sync throughput / qt-async throughput. */
  syncVsAsync: Spread;
  /** Measured queries per worker (after the warm-up). */
  queries: number;
}

function summarise(c: Comparison, results: WorkerResult[][]): ComparisonSummary {
  const byVariant = (v: Variant): WorkerResult[] => results.map((round) => round.find((r) => r.spec.variant === v)!).filter(Boolean);
  const variants: ComparisonSummary['variants'] = {};
  const paired: ComparisonSummary['paired'] = {};
  for (const v of c.compared) {
    const rs = byVariant(v);
    if (rs.length === 0) continue;
    variants[v] = {
      qps: spread(rs.map((r) => r.qps)),
      cpuUsPerQuery: spread(rs.map((r) => r.cpuUsPerQuery)),
      p50Us: spread(rs.map((r) => r.p50Us)),
      p99Us: spread(rs.map((r) => r.p99Us)),
      producedPerQuery: median(rs.map((r) => r.produced / r.queries)),
      dropped: rs.reduce((a, r) => a + r.dropped, 0),
    };
  }
  const raw = byVariant('raw');
  for (const v of c.compared) {
    if (v === 'raw') continue;
    const rs = byVariant(v);
    if (rs.length === 0) continue;
    paired[v] = {
      qpsRatio: spread(rs.map((r, i) => r.qps / raw[i]!.qps)),
      cpuDeltaUs: spread(rs.map((r, i) => r.cpuUsPerQuery - raw[i]!.cpuUsPerQuery)),
    };
  }
  const sync = byVariant('qt-sync');
  const asyncRs = byVariant('qt-async');
  return { ...c, variants, paired, syncVsAsync: spread(sync.map((r, i) => r.qps / asyncRs[i]!.qps)), queries: results[0]?.[0]?.queries ?? 0 };
}

export interface Target {
  id: string;
  what: string;
  measured: number;
  unit: string;
  target: string;
  pass: boolean;
  detail: string;
}

function targets(sums: ComparisonSummary[], journal: Spread | undefined, analysis: AnalysisSummary | undefined, memory: MemorySummary | undefined): Target[] {
  const out: Target[] = [];
  const get = (id: string): ComparisonSummary | undefined => sums.find((s) => s.id === id);
  const range = (s: Spread, d = 2): string => `rounds ${s.min.toFixed(d)}–${s.max.toFixed(d)}, n=${s.n}`;
  for (const db of config.dbs) {
    for (const c of [1, 32]) {
      const s = get(`W1-${db}-c${c}`)?.paired['qt-async']?.cpuDeltaUs;
      if (s) {
        out.push({
          id: `cpu-async-W1-${db}-c${c}`,
          what: `async mode added client CPU per query vs raw, W1 ${db} c${c}`,
          measured: s.median,
          unit: 'µs',
          target: '≤ 20 µs',
          pass: s.median <= 20,
          detail: range(s, 0),
        });
      }
    }
  }
  for (const db of config.dbs) {
    const s = get(`W1-${db}-c32`)?.paired['qt-async']?.qpsRatio;
    if (s) out.push({ id: `tput-async-W1-${db}-c32`, what: `async mode W1 ${db} c32 throughput / raw`, measured: s.median, unit: '×', target: '≥ 0.90', pass: s.median >= 0.9, detail: range(s) });
  }
  for (const db of config.dbs) {
    const s = get(`W2-${db}-c32`)?.paired['qt-sync']?.qpsRatio;
    if (s) out.push({ id: `tput-sync-W2-${db}-c32`, what: `sync mode W2 ${db} c32 throughput / raw`, measured: s.median, unit: '×', target: '≥ 0.80', pass: s.median >= 0.8, detail: range(s) });
  }
  for (const db of config.dbs) {
    const s = get(`W2-${db}-c32`)?.syncVsAsync;
    if (s) out.push({ id: `group-commit-W2-${db}-c32`, what: `sync mode group commit: W2 ${db} c32 sync / async throughput`, measured: s.median, unit: '×', target: '≥ 0.70', pass: s.median >= 0.7, detail: range(s) });
  }
  // W3: the async-mode targets of W1, per ORM operation (throughput) and per statement sent (CPU).
  for (const orm of ORMS) {
    const c = get(`W3-${orm}-c${config.ormConcurrency}`);
    const p = c?.paired['qt-async'];
    const perOp = c?.variants['qt-async']?.producedPerQuery ?? Number.NaN;
    if (!c || !p) continue;
    out.push({ id: `tput-async-W3-${orm}`, what: `W3 ORM flow, ${orm} + querytrail (async) throughput / raw ${orm}, c${c.concurrency}`, measured: p.qpsRatio.median, unit: '×', target: '≥ 0.90', pass: p.qpsRatio.median >= 0.9, detail: range(p.qpsRatio) });
    const perStmt = p.cpuDeltaUs.median / perOp;
    out.push({
      id: `cpu-async-W3-${orm}`,
      what: `W3 ORM flow, ${orm}: added client CPU per statement sent (${fmt2(perOp)} statements per operation)`,
      measured: perStmt,
      unit: 'µs',
      target: '≤ 20 µs',
      pass: perStmt <= 20,
      detail: `per operation ${Math.round(p.cpuDeltaUs.median)} µs (rounds ${Math.round(p.cpuDeltaUs.min)}–${Math.round(p.cpuDeltaUs.max)}), n=${p.cpuDeltaUs.n}`,
    });
  }
  if (memory) {
    const d = memory.down;
    out.push({
      id: 'memory-sink-down',
      what: `RSS growth over ${fmt2(d.statements, 0)} audited statements (begin/succeed, async journal) while the only sink is down`,
      measured: d.growthMiB,
      unit: 'MiB',
      target: '≤ 64 MiB',
      pass: d.growthMiB <= 64 && d.dropped === 0,
      detail: `${fmt2(d.rate, 0)} statements/s; RSS ${Math.round(d.samples[0]!.rssMiB)} → max ${Math.round(Math.max(...d.samples.map((x) => x.rssMiB)))} MiB after forced GC, ${d.dropped} dropped${memory.noSink ? `; same run without a sink: +${Math.round(memory.noSink.growthMiB)} MiB` : ''}${memory.overload ? `; unpaced (overload): +${Math.round(memory.overload.growthMiB)} MiB, ${fmt2(memory.overload.dropped, 0)} dropped and counted in sink.gap records` : ''}`,
    });
  }
  if (journal) {
    out.push({ id: 'journal-events-per-s', what: 'journal alone: db.query records (as the query path hands them) written and flushed per second', measured: journal.median, unit: 'events/s', target: '≥ 100,000', pass: journal.median >= 100_000, detail: `runs ${Math.round(journal.min)}–${Math.round(journal.max)}, n=${journal.n}` });
  }
  if (analysis) {
    out.push({ id: 'analysis-cold-postgres', what: 'SQL analysis cold median, ~600-char ORM SELECT with 3 joins, PostgreSQL', measured: analysis.postgres.coldMedianUs.median, unit: 'µs', target: '≤ 250 µs', pass: analysis.postgres.coldMedianUs.median <= 250, detail: `runs ${analysis.postgres.coldMedianUs.min}–${analysis.postgres.coldMedianUs.max}, n=${analysis.postgres.coldMedianUs.n}` });
    out.push({ id: 'analysis-cold-mysql', what: 'SQL analysis cold median, ~600-char ORM SELECT with 3 joins, MySQL', measured: analysis.mysql.coldMedianUs.median, unit: 'µs', target: '≤ 600 µs', pass: analysis.mysql.coldMedianUs.median <= 600, detail: `runs ${analysis.mysql.coldMedianUs.min}–${analysis.mysql.coldMedianUs.max}, n=${analysis.mysql.coldMedianUs.n}` });
  }
  return out;
}

const fmt2 = (x: number, d = 2): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d }) : 'n/a');

// ---- component micro-benchmarks ----------------------------------------------------------------

export interface MemorySummary {
  /** The measured run: one sink whose write() always throws, paced at config.memoryRate. */
  down: MemoryRun;
  /** The same run without a sink, to tell the sink's share from the journal's. */
  noSink?: MemoryRun;
  /** The sink-down run unpaced: more statements per second than the journal writes (overload). */
  overload?: MemoryRun;
}

async function memoryBench(): Promise<MemorySummary> {
  const one = async (sink: 'down' | 'no-sink', rate: number): Promise<MemoryRun> => {
    const out = await withRetry(`memory bench (${sink}, rate ${rate})`, () =>
      runNode(['--expose-gc', '--import', 'tsx', 'bench/memory.bench.ts', String(config.memoryStatements), sink, String(rate)], {
        timeoutMs: 600_000,
        profName: `memory-${sink}-${rate}`,
      }),
    );
    const run = JSON.parse(out.trim().split('\n').at(-1)!) as MemoryRun;
    console.log(
      `bench: memory (${sink === 'down' ? 'sink down' : 'no sink'}, ${rate > 0 ? `${rate}/s` : 'unpaced'}): ${run.statements} statements, RSS ${run.samples.map((x) => Math.round(x.rssMiB)).join(' → ')} MiB, growth ${Math.round(run.growthMiB)} MiB, ${run.sinkWriteAttempts} failed sink writes, ${run.dropped} dropped`,
    );
    return run;
  };
  return { down: await one('down', config.memoryRate), noSink: await one('no-sink', config.memoryRate), overload: await one('down', 0) };
}

const ORM_PACKAGES = ['@querytrail/prisma', '@querytrail/typeorm', '@querytrail/knex'];

/**
 * W3 set-up: builds the ORM plugins (scripts/bench.mjs builds core only; the workers import the dists,
 * as an application would) unless BENCH_SKIP_BUILD=1, then `prisma generate` for
 * bench/prisma/schema.prisma (generate needs no schema engine: any executable stands in).
 */
function prepareW3(): void {
  if (env.BENCH_SKIP_BUILD !== '1') {
    const t0 = performance.now();
    try {
      execFileSync('npm', ['run', '--silent', 'build', ...ORM_PACKAGES.flatMap((p) => ['--workspace', p])], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      console.log(`bench: built ${ORM_PACKAGES.join(', ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      console.warn(`bench: building the ORM plugins failed, measuring their existing dists: ${(e as Error).message}`);
    }
  }
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(root, 'bench', 'prisma', 'schema.prisma')], {
    cwd: root,
    env: { ...env, PRISMA_SCHEMA_ENGINE_BINARY: env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

interface JournalRun {
  /** records: statements finished through an auditor (the target); events: pre-built event objects. */
  mode: 'records' | 'events';
  events: number;
  records: number;
  wallMs: number;
  eventsPerSecond: number;
  cpuUs: number;
}

async function journalBench(round: number, mode: JournalRun['mode']): Promise<JournalRun> {
  const out = await withRetry('journal bench', () =>
    runNode(['--import', 'tsx', 'bench/journal.bench.ts', String(config.journalEvents), mode], { timeoutMs: 300_000, profName: `journal-${mode}-r${round}` }),
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as JournalRun;
}

interface AnalysisDialect {
  sqlLength: number;
  coldMedianUs: number;
  coldP95Us: number;
  cacheHitMedianUs: number;
  samples: number;
}
export interface AnalysisSummary {
  runs: Record<string, AnalysisDialect>[];
  postgres: { sqlLength: number; coldMedianUs: Spread; coldP95Us: Spread; cacheHitMedianUs: Spread };
  mysql: { sqlLength: number; coldMedianUs: Spread; coldP95Us: Spread; cacheHitMedianUs: Spread };
}

const ANALYSIS_BENCH = 'packages/core/bench/analysis.bench.ts';

async function analysisBench(): Promise<AnalysisSummary | undefined> {
  if (!existsSync(join(root, ANALYSIS_BENCH))) {
    console.warn(`bench: ${ANALYSIS_BENCH} not found; the analysis micro-benchmark is skipped`);
    return undefined;
  }
  const runs: Record<string, AnalysisDialect>[] = [];
  for (let i = 0; i < config.analysisRuns; i++) {
    // The built package (dist), as an application gets it; tsx only compiles the bench file itself.
    const out = await withRetry('analysis bench', () =>
      runNode(['--import', 'tsx', ANALYSIS_BENCH], { timeoutMs: 300_000, profName: `analysis-r${i}` }),
    );
    runs.push(JSON.parse(out.slice(out.indexOf('{'))) as Record<string, AnalysisDialect>);
    console.log(`bench: analysis run ${i + 1}/${config.analysisRuns}: postgres cold ${runs.at(-1)!.postgres?.coldMedianUs} µs, mysql cold ${runs.at(-1)!.mysql?.coldMedianUs} µs`);
  }
  const d = (k: 'postgres' | 'mysql') => ({
    sqlLength: runs[0]![k]!.sqlLength,
    coldMedianUs: spread(runs.map((r) => r[k]!.coldMedianUs)),
    coldP95Us: spread(runs.map((r) => r[k]!.coldP95Us)),
    cacheHitMedianUs: spread(runs.map((r) => r[k]!.cacheHitMedianUs)),
  });
  return { runs, postgres: d('postgres'), mysql: d('mysql') };
}

const POLICY_BENCH = 'packages/core/bench/policy.bench.ts';

export interface PolicySummary {
  iterations: number;
  results: Record<string, { ns_per_decision: number; action: string }>;
}

/** Policy decisions on already analysed statements: the cost policy adds on the query path. */
async function policyBench(): Promise<PolicySummary | undefined> {
  if (!existsSync(join(root, POLICY_BENCH))) return undefined;
  const out = await withRetry('policy bench', () =>
    runNode(['--import', 'tsx', POLICY_BENCH], { timeoutMs: 300_000, profName: 'policy' }),
  );
  const parsed = JSON.parse(out.slice(out.indexOf('{'))) as PolicySummary;
  console.log(`bench: policy decisions: ${Object.entries(parsed.results).map(([k, v]) => `${k} ${v.ns_per_decision} ns`).join(', ')}`);
  return parsed;
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  if (config.cpuProfDir) mkdirSync(config.cpuProfDir, { recursive: true });
  console.log(
    `bench: ${quick ? 'QUICK smoke run, ' : ''}${config.rounds} rounds × ${comparisons.length} comparisons (W1/W2 ${VARIANTS.length} variants, W3 ${W3_VARIANTS.length}), ` +
      `${windowRange()} queries after ${config.warmup} warm-up per worker`,
  );
  const loadStart = loadavg();
  const info = await machine();
  const results = new Map<string, WorkerResult[][]>(comparisons.map((c) => [c.id, []]));
  const journalRuns: JournalRun[] = [];
  let analysis: AnalysisSummary | undefined;
  let policy: PolicySummary | undefined;
  let memory: MemorySummary | undefined;
  let insertedRows: Record<string, number> = {};
  // Ctrl-C: the workers get the signal too; drop the tables before leaving.
  process.once('SIGINT', () => {
    console.warn('bench: interrupted; dropping the qt_bench_ tables');
    void Promise.allSettled(config.dbs.map((db) => dropTables(db))).then(() => process.exit(130));
  });
  try {
    // Component micro-benchmarks first, while the database servers are idle: after the workloads,
    // their background work (autovacuum, purge) competes for the same 2 cores.
    analysis = await analysisBench();
    policy = await policyBench();
    if (comparisons.some((c) => c.workload === 'W3')) prepareW3();
    for (const db of config.dbs) await createTables(db);
    for (let round = 0; round < config.rounds; round++) {
      for (const c of comparisons) {
        const roundResults: WorkerResult[] = [];
        for (const variant of rotate(c.compared, round)) {
          const spec: WorkerSpec = { db: c.db, variant, workload: c.workload, concurrency: c.concurrency, queries: windowQueries(c), warmup: config.warmup, ...(c.orm ? { orm: c.orm } : {}) };
          const r = await runWorker(spec, round);
          roundResults.push(r);
          console.log(
            `bench: round ${round + 1}/${config.rounds} ${c.id.padEnd(14)} ${variant.padEnd(8)} ` +
              `${r.qps.toFixed(0).padStart(6)} q/s  ${r.cpuUsPerQuery.toFixed(0).padStart(4)} µs CPU/q  p50 ${(r.p50Us / 1000).toFixed(2)} ms  p99 ${(r.p99Us / 1000).toFixed(2)} ms`,
          );
        }
        results.get(c.id)!.push(roundResults);
      }
      // The journal micro-benchmark takes its turn in every round too.
      for (const mode of ['records', 'events'] as const) {
        const j = await journalBench(round, mode);
        journalRuns.push(j);
        console.log(`bench: round ${round + 1}/${config.rounds} journal alone (${mode}): ${Math.round(j.eventsPerSecond)} events/s (${j.records}/${j.events} recorded)`);
      }
    }
    // Memory while a sink is down: once, after the rounds (it measures bytes, not time).
    memory = await memoryBench();
    insertedRows = Object.fromEntries(await Promise.all(config.dbs.map(async (db) => [db, await rowCount(db, EVENTS_TABLE)] as const)));
  } finally {
    for (const db of config.dbs) {
      try {
        await dropTables(db);
      } catch (e) {
        console.warn(`bench: could not drop the qt_bench_ tables on ${db}: ${(e as Error).message}`);
      }
    }
  }
  const sums = comparisons.map((c) => summarise(c, results.get(c.id)!));
  const recordRuns = journalRuns.filter((j) => j.mode === 'records');
  const eventRuns = journalRuns.filter((j) => j.mode === 'events');
  const journal = recordRuns.length > 0 ? spread(recordRuns.map((j) => j.eventsPerSecond)) : undefined;
  const journalEvents = eventRuns.length > 0 ? spread(eventRuns.map((j) => j.eventsPerSecond)) : undefined;
  const report = {
    schema: 'querytrail.bench/1',
    generatedAt: started.toISOString(),
    durationS: Math.round((performance.now() - t0) / 100) / 10,
    command: commandLine(),
    quick,
    config,
    machine: { ...info, loadAverageStart: loadStart, loadAverageEnd: loadavg() },
    comparisons: sums,
    journal: { summary: journal, eventsSummary: journalEvents, runs: journalRuns },
    analysis,
    policy,
    memory,
    targets: targets(sums, journal, analysis, memory),
    insertedRows,
    raw: Object.fromEntries(results),
  };
  mkdirSync(config.outDir, { recursive: true });
  writeFileSync(join(config.outDir, 'benchmarks.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(config.outDir, 'benchmarks.md'), renderMarkdown(report));
  console.log(`bench: wrote ${join(config.outDir, 'benchmarks.md')} and benchmarks.json in ${report.durationS} s`);
  for (const t of report.targets) console.log(`bench: ${t.pass ? 'PASS' : 'MISS'} ${t.what}: ${t.measured.toFixed(t.unit === '×' ? 2 : 0)} ${t.unit} (target ${t.target})`);
}

export type BenchReport = {
  schema: string;
  generatedAt: string;
  durationS: number;
  command: string;
  quick: boolean;
  config: typeof config;
  machine: Record<string, unknown>;
  comparisons: ComparisonSummary[];
  journal: { summary: Spread | undefined; eventsSummary?: Spread | undefined; runs: JournalRun[] };
  analysis: AnalysisSummary | undefined;
  policy?: PolicySummary | undefined;
  memory?: MemorySummary | undefined;
  targets: Target[];
  insertedRows: Record<string, number>;
};

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
