/**
 * Memory while a sink is down: N audited statements (async journal, a journal directory, one sink
 * whose write() always throws) and the process RSS sampled after a forced GC at the start, every
 * 100,000 statements and at the end. Prints one JSON line (a `MemoryRun`). Run with --expose-gc:
 *   node --expose-gc --import tsx bench/memory.bench.ts 1000000 [down|no-sink] [statements per second]
 *
 * The rate (default 0: as fast as this process can produce them) paces the statements in chunks of
 * 1,000. Unpaced, one core produces W1 records faster than the journal can chain and write them (about
 * 140,000 against 110,000 per second here), so the run measures overload: the queue fills to its
 * bound, the overflow spills to disk, and what the spill cannot take is counted in `sink.gap`
 * records (`dropped`). Paced at a rate the journal
 * sustains, it measures what the target is about: memory while a sink is down.
 *
 * The statements are W1-shaped and go through `auditor.begin(...).succeed()` directly, as
 * bench/journal.bench.ts does, not through a driver: a million pg round trips take several minutes on
 * the shared 2-core machine, and the memory in question is the auditor's (journal queue, sink engine),
 * which sees the same records either way. Chunks of 1,000 with a turn of the event loop in between,
 * so the journal writer and the sink engine's retries run as they would in an application.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { createAuditor, type Sink } from '@querytrail/core';
import { POINT_SELECT_SQL, W1_CONTEXT, W1_DB } from './shared.js';

const count = Number(process.argv[2] ?? 1_000_000);
/** `no-sink`: the same run without the sink, to tell the sink's share of the growth from the journal's. */
const withSink = process.argv[3] !== 'no-sink';
const rate = Number(process.argv[4] ?? 0);
const CHUNK = 1000;
const SAMPLE_EVERY = 100_000;
const MiB = 2 ** 20;

export interface MemorySample {
  statements: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  /** Anonymous resident memory (Linux /proc/self/status RssAnon), when available. */
  rssAnonMiB?: number;
}
export interface MemoryRun {
  mode: 'begin-succeed';
  sink: 'down' | 'none';
  /** Statements per second the run was paced at; 0 = unpaced. */
  rate: number;
  statements: number;
  /** Events the journal did not keep (queue full), as its sink.gap records count them. */
  dropped: number;
  records: number;
  wallMs: number;
  gcForced: boolean;
  samples: MemorySample[];
  /** Largest sampled RSS minus the first sample. */
  growthMiB: number;
  sinkWriteAttempts: number;
  sinkErrors: number;
  journalBytes: number;
}

function sample(statements: number): MemorySample {
  if (global.gc) global.gc();
  const m = process.memoryUsage();
  const anon = rssAnonKiB();
  return { statements, rssMiB: m.rss / MiB, heapUsedMiB: m.heapUsed / MiB, heapTotalMiB: m.heapTotal / MiB, externalMiB: m.external / MiB, arrayBuffersMiB: m.arrayBuffers / MiB, ...(anon === undefined ? {} : { rssAnonMiB: anon / 1024 }) };
}

function rssAnonKiB(): number | undefined {
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

const dir = mkdtempSync(join(process.env.BENCH_JOURNAL_DIR ?? tmpdir(), 'qt-bench-memory-'));
let attempts = 0;
let errors = 0;
let dropped = 0;
const down: Sink = {
  name: 'down',
  accepts: 'records',
  async write() {
    attempts++;
    throw new Error('sink down (benchmark)');
  },
  flush: async () => {},
  close: async () => {},
};
try {
  const auditor = createAuditor({
    service: { name: 'querytrail-bench', env: 'bench' },
    journal: {
      dir,
      mode: 'async',
      onError: (e) => {
        const m = /dropped (\d+) events/.exec(e.message);
        if (m) dropped += Number(m[1]);
      },
    },
    catalog: { mode: false },
    ...(withSink ? { sinks: [down] } : {}),
    // Retries at least once a second, so the down sink is exercised all through the run.
    ...(withSink ? { delivery: { backoff: { initialMs: 50, maxMs: 1000 }, closeTimeoutMs: 100, onError: () => void errors++ } } : {}),
  });
  await auditor.ready();
  const db = W1_DB;
  const connection = {};
  const context = W1_CONTEXT;
  const chunk = (first: number): void => {
    auditor.runWithContext(context, () => {
      for (let i = first; i < first + CHUNK && i < count; i++) {
        auditor.begin({ text: POINT_SELECT_SQL.postgres, params: [(i % 10_000) + 1], db, connection }).succeed({ rowsReturned: 1 });
      }
    });
  };
  // A first chunk so the start sample has the code loaded and the caches filled.
  chunk(0);
  await auditor.flush();
  const before = auditor.journal!.lastSeq;
  const samples = [sample(0)];
  const t0 = performance.now();
  for (let i = 0; i < count; i += CHUNK) {
    chunk(i);
    const due = rate > 0 ? t0 + ((i + CHUNK) / rate) * 1000 : 0;
    const ahead = due - performance.now();
    if (ahead >= 1) await sleep(ahead);
    else await turn();
    if ((i + CHUNK) % SAMPLE_EVERY === 0 && i + CHUNK < count) samples.push(sample(i + CHUNK));
  }
  await auditor.flush();
  const wallMs = performance.now() - t0;
  samples.push(sample(count));
  const records = auditor.journal!.lastSeq - before;
  await auditor.close();
  const start = samples[0]!.rssMiB;
  const run: MemoryRun = {
    mode: 'begin-succeed',
    sink: withSink ? 'down' : 'none',
    rate,
    statements: count,
    dropped,
    records,
    wallMs,
    gcForced: typeof global.gc === 'function',
    samples,
    growthMiB: Math.max(...samples.map((s) => s.rssMiB)) - start,
    sinkWriteAttempts: attempts,
    sinkErrors: errors,
    journalBytes: dirBytes(dir),
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
