// The process that gets killed: an auditor in sync mode over a real pool, under concurrent INSERT load.
// Run by crash.test.ts as
//   node --conditions=source --import tsx crash-child.ts <mariadb|postgresql> <journal dir> <table>
// with QT_CRASH_SIGNING_KEY (Ed25519 PEM) in the environment for a signed journal.
// Each INSERT carries a unique marker 'c-<n>' as its only bound parameter; with params: raw the
// db.query.attempt record holds it, so the parent can match rows to attempt records.
// Prints `C <id>` for each server session it opens (before any statement is sent on it), READY when the
// load is running and `P <n>` after every 50 completed INSERTs. It never stops on
// its own before the parent's SIGKILL (a safety timer ends it after 30 s if the parent has gone).
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createAuditor } from '@querytrail/core';

const [system, dir, table] = process.argv.slice(2);
if ((system !== 'mariadb' && system !== 'postgresql') || !dir || !table || !/^qt_crash_[0-9a-f]+$/.test(table)) {
  console.error('usage: crash-child.ts <mariadb|postgresql> <journal dir> <qt_crash_… table>');
  process.exit(2);
}

const CONCURRENCY = 32;
setTimeout(() => process.exit(3), 30_000).unref();

const auditor = createAuditor({
  service: { name: 'crash-child' },
  journal: {
    dir,
    mode: 'sync',
    ...(process.env.QT_CRASH_SIGNING_KEY ? { signingKey: { env: 'QT_CRASH_SIGNING_KEY' }, checkpointEvery: 64 } : {}),
  },
  params: { mode: 'raw' },
});
await auditor.ready();

let insert: (marker: string) => Promise<unknown>;
if (system === 'mariadb') {
  const pool = auditor.instrumentMysql2(
    mysql.createPool({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test', connectionLimit: 8 }),
  );
  // The parent waits for these server sessions to end before it counts rows.
  pool.pool.on('connection', (c) => process.stdout.write(`C ${c.threadId}\n`));
  insert = (marker) => pool.query(`INSERT INTO ${table} (marker) VALUES (?)`, [marker]);
} else {
  const pool = auditor.instrumentPg(new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 8 }));
  pool.on('connect', (c) => process.stdout.write(`C ${(c as unknown as { processID: number }).processID}\n`));
  insert = (marker) => pool.query(`INSERT INTO ${table} (marker) VALUES ($1)`, [marker]);
}

let next = 0;
let completed = 0;
async function worker(): Promise<void> {
  for (;;) {
    const marker = `c-${next++}`;
    await insert(marker);
    completed += 1;
    if (completed % 50 === 0) process.stdout.write(`P ${completed}\n`);
  }
}

process.stdout.write('READY\n');
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
