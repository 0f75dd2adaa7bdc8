/**
 * How fast `querytrail search` and `report` read a large journal. Writes `count` W1-shaped db.query
 * events (about 1.3 KB each: 100 actors, every 100th a sensitive read) to a fresh journal, then times
 * each command in this process and prints one JSON line per command:
 * { command, events, bytes, wallMs, eventsPerSecond, mibPerSecond, matched }.
 *   node --conditions=source --import tsx bench/cli-scan.bench.ts [count, default 1000000]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { main } from '@querytrail/cli';
import { Journal } from '@querytrail/core';
import { sampleEvent, sampleSource } from './sample-event.js';

const count = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'qt-bench-cli-'));
try {
  const source = sampleSource();
  const journal = new Journal({ dir, maxQueuedEvents: 50_000 }, source);
  for (let i = 0; i < count; i += 1) {
    const e = sampleEvent(i, source);
    e.actor = { type: 'human', id: `u${i % 100}` };
    if (i % 100 === 0) e.sensitivity = { tags: ['pii'], matched: [{ object: 'qt_bench_items', column: 'email', rule_id: 'pii', category: 'pii' }] };
    journal.append(e);
    if (i % 1_000 === 999) await turn();
  }
  await journal.close();
  const bytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  const runs: Array<[string, string[]]> = [
    ['search --actor u7 (byte prefilter)', ['search', dir, '--actor', 'u7', '--json']],
    ['search --tag pii (byte prefilter)', ['search', dir, '--tag', 'pii', '--json']],
    ['search --table QT_BENCH_ITEMS --text "no such text" (every line parsed, none match)', ['search', dir, '--table', 'QT_BENCH_ITEMS', '--text', 'no such text', '--json']],
    ['report --no-verify', ['report', dir, '--no-verify', '--format', 'json']],
    ['report (with verify)', ['report', dir, '--format', 'json']],
  ];
  for (const [name, argv] of runs) {
    let lines = 0;
    const io = {
      out: (s: string) => {
        lines += s.split('\n').length - 1;
      },
      err: (s: string) => process.stderr.write(s),
    };
    const start = performance.now();
    const code = await main(argv, io);
    const wallMs = performance.now() - start;
    console.log(
      JSON.stringify({
        command: name,
        exit: code,
        events: count,
        bytes,
        wallMs: Math.round(wallMs),
        eventsPerSecond: Math.round(count / (wallMs / 1000)),
        mibPerSecond: Math.round(bytes / 1048576 / (wallMs / 1000)),
        outputLines: lines,
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
