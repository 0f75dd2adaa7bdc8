import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditor } from '@querytrail/core';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { readJournal } from '../pg/journal-probe.js';

/**
 * mysql2 calls end()'s callback when its QUIT command starts, before the socket closes; the journal
 * closing in between lost each db.disconnect (with a warning). `await pool.end(); await
 * auditor.close()` must record every one, whichever API ended the connection.
 */
const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

type Shutdown = (auditor: ReturnType<typeof createAuditor>) => Promise<number>;

const shapes: Record<string, Shutdown> = {
  'callback pool': async (auditor) => {
    const pool = auditor.instrumentMysql2(mysql.createPool({ ...DB, connectionLimit: 2 }));
    const one = (n: number) => new Promise((resolve, reject) => pool.query(`SELECT ${n} /* end-cb */`, (err) => (err ? reject(err) : resolve(n))));
    await Promise.all([one(1), one(2)]);
    await new Promise<void>((resolve, reject) => pool.end((err) => (err ? reject(err) : resolve())));
    return 2;
  },
  'promise pool': async (auditor) => {
    const pool = auditor.instrumentMysql2(mysqlPromise.createPool({ ...DB, connectionLimit: 2 }));
    await Promise.all([pool.query('SELECT 1 /* end-p */'), pool.query('SELECT 2 /* end-p */')]);
    await pool.end();
    return 2;
  },
  'callback connection': async (auditor) => {
    const conn = auditor.instrumentMysql2(mysql.createConnection(DB));
    await new Promise((resolve, reject) => conn.query('SELECT 1 /* end-c */', (err) => (err ? reject(err) : resolve(0))));
    await new Promise<void>((resolve, reject) => conn.end((err) => (err ? reject(err) : resolve())));
    return 1;
  },
  'promise connection': async (auditor) => {
    const conn = auditor.instrumentMysql2(await mysqlPromise.createConnection(DB));
    await conn.query('SELECT 1 /* end-pc */');
    await conn.end();
    return 1;
  },
};

for (const [shape, run] of Object.entries(shapes)) {
  test(`mysql2 ${shape}: end() then auditor.close() records every db.disconnect`, async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      for (let round = 0; round < 4; round += 1) {
        const dir = mkdtempSync(join(tmpdir(), 'qt-mysql2-end-'));
        try {
          const auditor = createAuditor({ service: { name: 'mysql2-end' }, journal: { dir, mode: 'sync' }, catalog: { mode: false } });
          const connections = await run(auditor);
          await auditor.close();
          const types = readJournal(dir).map((e) => e.type);
          assert.equal(types.filter((t) => t === 'db.connect').length, connections, `round ${round}`);
          assert.equal(types.filter((t) => t === 'db.disconnect').length, connections, `round ${round}: ${types.join(' ')}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on a later tick
      assert.deepEqual(warnings.filter((w) => w.includes('after close()')), []);
    } finally {
      process.off('warning', onWarning);
    }
  });
}

test('mysql2 sync mode: query(sql, cb) then end() at once runs the query, as it does without querytrail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qt-mysql2-end-'));
  try {
    const auditor = createAuditor({ service: { name: 'mysql2-end' }, journal: { dir, mode: 'sync' }, catalog: { mode: false } });
    const conn = auditor.instrumentMysql2(mysql.createConnection(DB));
    const rows = await new Promise<unknown>((resolve, reject) => {
      conn.query('SELECT 41 + 1 AS answer /* then-end */', (err, result) => (err ? reject(err) : resolve(result)));
      conn.end();
    });
    assert.deepEqual(rows, [{ answer: 42 }]);
    await auditor.close();
    const texts = readJournal(dir).filter((e) => e.type === 'db.query' && e.statement?.text?.includes('then-end'));
    assert.deepEqual(texts.map((e) => e.result?.outcome), ['success']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
