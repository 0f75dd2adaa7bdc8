/**
 * Journal alone, in one of two modes. Prints one JSON line:
 * { mode, events, wallMs, eventsPerSecond, cpuUs, records }.
 *   node --import tsx bench/journal.bench.ts 100000 [records|events] [warm-up, default 20000]
 *
 * The target is a sustained rate: the warm-up records go through the same path first, untimed (JIT,
 * caches, the writer's buffers), as a long-running service has them; then `count` records are timed.
 *
 * - records (the target): what the query path hands the journal. W1-shaped statements are begun on an
 *   auditor before the clock starts (analysis, context, parameter HMAC: query-path work), then finished
 *   in the measured loop: each finish hands its compact record to the journal, whose writer builds the
 *   line from cached pieces, hashes and writes it. Measured: finishing + the whole writer.
 * - events: pre-built db.query event objects (about 1.3 KB of JSON each) appended to a bare Journal:
 *   the generic path (JSON.stringify per event) that lifecycle, alert and application events take.
 *
 * Each chunk of 1,000 is prepared just before it is handed over, and the preparation is not measured.
 * Appends come in chunks of 1,000 with a turn of the event loop in between, as a busy application
 * would produce them (one synchronous loop of 100,000 appends would only measure the queue bound).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { createAuditor, Journal, type StatementHandle } from '@querytrail/core';
import { sampleEvent as event, sampleSource } from './sample-event.js';
import { POINT_SELECT_SQL, W1_CONTEXT, W1_DB } from './shared.js';

const measured = Number(process.argv[2] ?? 100_000);
const mode = process.argv[3] === 'events' ? 'events' : 'records';
const warmup = Number(process.argv[4] ?? 20_000);
/** Items prepared and handed over: warm-up first, then the measured ones. */
const count = warmup + measured;
const CHUNK = 1000;

interface Target {
  /** Untimed preparation of item i. */
  prepare(i: number): void;
  /** Timed: hands item i to the journal. */
  hand(i: number): void;
  flush(): Promise<void>;
  lastSeq(): number;
  close(): Promise<void>;
}

async function recordsTarget(dir: string): Promise<Target> {
  // The queue bound is lifted: this measures how fast records are chained and written, and a flood
  // that outruns the writer must not turn into dropped (uncounted) records.
  const auditor = createAuditor({ service: { name: 'querytrail-bench', env: 'bench' }, journal: { dir, maxQueuedEvents: count + 100 }, catalog: { mode: false } });
  await auditor.ready();
  const db = W1_DB;
  const connection = {};
  const handles: (StatementHandle | undefined)[] = new Array(count);
  const context = W1_CONTEXT;
  return {
    prepare(i) {
      handles[i] = auditor.runWithContext(context, () => auditor.begin({ text: POINT_SELECT_SQL.postgres, params: [(i % 10_000) + 1], db, connection }));
    },
    hand(i) {
      handles[i]!.succeed({ rowsReturned: 1 });
      handles[i] = undefined;
    },
    flush: () => auditor.flush(),
    lastSeq: () => auditor.journal!.lastSeq,
    close: () => auditor.close(),
  };
}

function eventsTarget(dir: string): Target {
  const source = sampleSource();
  const journal = new Journal({ dir, maxQueuedEvents: count + 100 }, source);
  const events: (ReturnType<typeof event> | undefined)[] = new Array(count);
  return {
    prepare(i) {
      events[i] = event(i, source);
    },
    hand(i) {
      journal.append(events[i]!);
      events[i] = undefined;
    },
    flush: () => journal.flush(),
    lastSeq: () => journal.lastSeq,
    close: () => journal.close(),
  };
}

const dir = mkdtempSync(join(process.env.BENCH_JOURNAL_DIR ?? tmpdir(), 'qt-bench-journal-'));
try {
  const target = mode === 'records' ? await recordsTarget(dir) : eventsTarget(dir);
  await target.flush(); // the genesis record (and sdk.start), outside the measurement
  // Each chunk is prepared just before it is handed over (so the heap holds about one chunk, as in an
  // application), and the preparation's time is taken out: it is synchronous, so no journal work
  // runs during it.
  const handOver = async (from: number, to: number): Promise<{ prepWallMs: number; prepCpuUs: number }> => {
    let prepWallMs = 0;
    let prepCpuUs = 0;
    for (let i = from; i < to; i += CHUNK) {
      const end = Math.min(to, i + CHUNK);
      const p0 = performance.now();
      const pc = process.cpuUsage();
      for (let k = i; k < end; k++) target.prepare(k);
      const pcd = process.cpuUsage(pc);
      prepCpuUs += pcd.user + pcd.system;
      prepWallMs += performance.now() - p0;
      for (let k = i; k < end; k++) target.hand(k);
      await turn();
    }
    await target.flush();
    return { prepWallMs, prepCpuUs };
  };
  await handOver(0, warmup);
  const before = target.lastSeq();
  if (global.gc) global.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const prep = await handOver(warmup, count);
  const wallMs = performance.now() - t0 - prep.prepWallMs;
  const cpu = process.cpuUsage(cpu0);
  const records = target.lastSeq() - before;
  await target.close();
  process.stdout.write(
    `${JSON.stringify({ mode, events: measured, records, wallMs, eventsPerSecond: (records / wallMs) * 1000, cpuUs: cpu.user + cpu.system - prep.prepCpuUs })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
