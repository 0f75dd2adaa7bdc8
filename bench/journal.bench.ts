/**
 * Journal alone: appends pre-built db.query events (the shape the pg wrapper emits for the W1 point
 * select) to a Journal on a fresh directory and awaits flush. Prints one JSON line:
 * { events, wallMs, eventsPerSecond, cpuUs, records }.
 *   node --import tsx bench/journal.bench.ts 50000
 *
 * Events are appended in chunks of 1,000 with a turn of the event loop in between, as a busy
 * application would produce them (one synchronous loop of 100,000 appends would only measure the
 * queue bound, maxQueuedEvents).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { Journal } from '@querytrail/core';
import { sampleEvent as event, sampleSource } from './sample-event.js';

const count = Number(process.argv[2] ?? 50_000);
const CHUNK = 1000;

const source = sampleSource();

const dir = mkdtempSync(join(process.env.BENCH_JOURNAL_DIR ?? tmpdir(), 'qt-bench-journal-'));
try {
  const events = Array.from({ length: count }, (_, i) => event(i, source));
  const journal = new Journal({ dir }, source);
  await journal.flush(); // the genesis record, outside the measurement
  const before = journal.lastSeq;
  if (global.gc) global.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i += CHUNK) {
    const end = Math.min(count, i + CHUNK);
    for (let k = i; k < end; k++) journal.append(events[k]!);
    await turn();
  }
  await journal.flush();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const records = journal.lastSeq - before;
  await journal.close();
  process.stdout.write(
    `${JSON.stringify({ events: count, records, wallMs, eventsPerSecond: (count / wallMs) * 1000, cpuUs: cpu.user + cpu.system })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
