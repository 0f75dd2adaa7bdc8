/**
 * Focused in-process A/B for hot-path work (not part of `npm run bench`): one process, one pg pool per
 * variant, blocks of W1 queries alternated between the pools many times, client CPU per query read
 * around each block. Process-wide effects (AsyncLocalStorage hooks once a store exists, GC pressure)
 * are shared by all variants, so this isolates what querytrail's own code adds per statement, with
 * far less noise than separate worker processes on this 2-core machine.
 *   node --import tsx bench/inprocess.ts [postgres|mysql] [concurrency=32] [blocks=30] [queries per block=2000]
 * Variants: raw; qt-memory (auditor with journal: false); qt-async (async file journal; extra journal
 * options as JSON in BENCH_JOURNAL_OPTIONS, e.g. '{"lingerMs":50}').
 * Measures the built dist (`npm run build -w @querytrail/core` after a change).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditor } from '@querytrail/core';
import { createTables } from './db.js';
import { drive } from './drive.js';
import { DB_CONFIG, type Db, POINT_SELECT_SQL, POOL_SIZE, pointKey } from './shared.js';
import { median } from './stats.js';

const require = createRequire(import.meta.url);
const [dbArg = 'postgres', concArg = '32', blocksArg = '30', perBlockArg = '2000'] = process.argv.slice(2);
const db = dbArg as Db;
const concurrency = Number(concArg);
const blocks = Number(blocksArg);
const perBlock = Number(perBlockArg);

type Query = (i: number) => Promise<void>;

function makePool(): { query: Query; pool: object; end(): Promise<void> } {
  if (db === 'postgres') {
    const pg = require('pg') as typeof import('pg');
    const pool = new pg.Pool({ ...DB_CONFIG.postgres, max: POOL_SIZE });
    return {
      pool,
      query: async (i) => {
        const r = await pool.query(POINT_SELECT_SQL.postgres, [pointKey(i)]);
        if (r.rows.length !== 1) throw new Error('no row');
      },
      end: () => pool.end(),
    };
  }
  const mysql = require('mysql2') as typeof import('mysql2');
  const pool = mysql.createPool({ ...DB_CONFIG.mysql, connectionLimit: POOL_SIZE }).promise();
  return {
    pool,
    query: async (i) => {
      const [rows] = await pool.execute(POINT_SELECT_SQL.mysql, [pointKey(i)]);
      if ((rows as unknown[]).length !== 1) throw new Error('no row');
    },
    end: () => pool.end(),
  };
}

await createTables(db);
const dir = mkdtempSync(join(tmpdir(), 'qt-inproc-'));
const memoryAuditor = createAuditor({ service: { name: 'qt-inproc', env: 'bench' }, journal: false });
const fileAuditor = createAuditor({ service: { name: 'qt-inproc', env: 'bench' }, journal: { ...(process.env.BENCH_JOURNAL_OPTIONS ? JSON.parse(process.env.BENCH_JOURNAL_OPTIONS) : {}), dir } });
await Promise.all([memoryAuditor.ready(), fileAuditor.ready()]);
const context = { actor: { type: 'service' as const, id: 'bench' }, request: { id: 'inproc' } };

const raw = makePool();
const memory = makePool();
const file = makePool();
if (db === 'postgres') {
  memoryAuditor.instrumentPg(memory.pool);
  fileAuditor.instrumentPg(file.pool);
} else {
  memoryAuditor.instrumentMysql2(memory.pool);
  fileAuditor.instrumentMysql2(file.pool);
}

const variants = [
  { name: 'raw', run: (first: number) => drive(raw.query, first, perBlock, concurrency), settle: async () => {} },
  { name: 'qt-memory', run: (first: number) => memoryAuditor.runWithContext(context, () => drive(memory.query, first, perBlock, concurrency)), settle: () => memoryAuditor.flush() },
  { name: 'qt-async', run: (first: number) => fileAuditor.runWithContext(context, () => drive(file.query, first, perBlock, concurrency)), settle: () => fileAuditor.flush() },
];
const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
let first = 0;
for (let b = -3; b < blocks; b++) {
  // Rotate the order each block; the first three blocks are warm-up.
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(k + Math.max(b, 0)) % variants.length]!;
    const c0 = process.cpuUsage();
    await v.run(first);
    await v.settle();
    const c = process.cpuUsage(c0);
    first += perBlock;
    if (b >= 0) cpu.get(v.name)!.push((c.user + c.system) / perBlock);
  }
}
const rawCpu = cpu.get('raw')!;
for (const v of variants) {
  const mine = cpu.get(v.name)!;
  const added = mine.map((x, i) => x - rawCpu[i]!);
  console.log(`${v.name.padEnd(10)} CPU/q median ${median(mine).toFixed(1)} µs  added vs raw (paired median) ${median(added).toFixed(1)} µs`);
}
await Promise.all([raw.end(), memory.end(), file.end()]);
// The drivers report their connections closed a moment after end() resolves: let those events in first.
await new Promise((r) => setTimeout(r, 200));
await memoryAuditor.close();
await fileAuditor.close();
rmSync(dir, { recursive: true, force: true });
