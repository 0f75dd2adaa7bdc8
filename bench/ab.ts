/**
 * Focused paired measurement for working on the hot path (not part of `npm run bench`): runs
 * bench/worker.ts for the chosen variants of ONE comparison, alternated over rounds, and prints the
 * paired median of added client CPU per query and of throughput / raw.
 *   node --import tsx bench/ab.ts postgres W1 32 raw,qt-async [rounds=5] [queries=3000]
 * Measures the built dist (run `npm run build -w @querytrail/core` after a change).
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTables, dropTables } from './db.js';
import type { Db, Variant, WorkerResult, WorkerSpec, Workload } from './shared.js';
import { median, rotate } from './stats.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [db = 'postgres', workload = 'W1', conc = '32', variantList = 'raw,qt-async', roundsArg = '5', queriesArg = '3000'] = process.argv.slice(2);
const variants = variantList.split(',') as Variant[];
const rounds = Number(roundsArg);
const queries = Number(queriesArg);

function run(spec: WorkerSpec): WorkerResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/worker.ts', JSON.stringify(spec)], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`worker failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as WorkerResult;
}

await createTables(db as Db);
const cpu = new Map<Variant, number[]>(variants.map((v) => [v, []]));
const ratio = new Map<Variant, number[]>(variants.map((v) => [v, []]));
const added = new Map<Variant, number[]>(variants.map((v) => [v, []]));
for (let round = 0; round < rounds; round++) {
  const results = new Map<Variant, WorkerResult>();
  for (const variant of rotate(variants, round)) {
    const spec: WorkerSpec = { db: db as Db, variant, workload: workload as Workload, concurrency: Number(conc), queries, warmup: Math.max(4000, queries) };
    const res = run(spec);
    results.set(variant, res);
    cpu.get(variant)!.push(res.cpuUsPerQuery);
    console.log(`r${round} ${variant.padEnd(9)} ${res.qps.toFixed(0).padStart(6)} q/s ${res.cpuUsPerQuery.toFixed(1).padStart(7)} µs CPU/q produced ${res.produced}`);
  }
  const raw = results.get('raw');
  if (raw) {
    for (const [v, res] of results) {
      ratio.get(v)!.push(res.qps / raw.qps);
      added.get(v)!.push(res.cpuUsPerQuery - raw.cpuUsPerQuery);
    }
  }
}
for (const v of variants) {
  const a = added.get(v)!;
  console.log(
    `${v.padEnd(9)} CPU/q ${median(cpu.get(v)!).toFixed(1)}  added ${a.length ? median(a).toFixed(1) : 'n/a'} [${a.map((x) => x.toFixed(0)).join(' ')}]  q/s÷raw ${
      ratio.get(v)!.length ? median(ratio.get(v)!).toFixed(2) : 'n/a'
    }`,
  );
}
await dropTables(db as Db);
