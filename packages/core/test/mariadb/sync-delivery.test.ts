import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAuditor, type StatementRecorder, verifyJournal } from '@querytrail/core';
import mariadb, { type Connection } from 'mariadb';
import type { Auditor } from '../../src/auditor/auditor.js';
import { instrumentMariadb } from '../../src/drivers/mariadb/instrument.js';
import { baseConnectionOf } from '../../src/drivers/mariadb/promise-connection.js';
import { attemptsWith, impatient, readJournal, SocketProbe } from '../pg/journal-probe.js';
import { tempDir } from '../support/temp-dir.js';
import { admin, DB, tableName } from './helpers.js';

const MARKERS = /qtd_[0-9a-f]{8}_\d+/g;
const run = randomBytes(4).toString('hex');
let counter = 0;
const marker = () => `qtd_${run}_${++counter}`;

const syncAuditor = (dir: string): Auditor => createAuditor({ service: { name: 'mariadb-sync' }, journal: { dir, mode: 'sync' } }) as Auditor;
const socketOf = (c: Connection) => baseConnectionOf(c as never)!.socket!;

describe('mariadb, sync delivery', () => {
  const table = tableName();
  before(() => admin(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, m VARCHAR(64) NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  test('query, execute, batch, pool.query: every packet leaves after its attempt is durable', async () => {
    const dir = tempDir('qt-mdb-sync-');
    const auditor = syncAuditor(dir);
    const probe = new SocketProbe(dir, MARKERS);
    probe.observe(auditor);
    const conn = auditor.instrumentMariadb(await mariadb.createConnection(DB));
    probe.watch(socketOf(conn));
    const pool = mariadb.createPool({ ...DB, connectionLimit: 2 });
    pool.on('connection', (c) => probe.watch(socketOf(c as unknown as Connection)));
    auditor.instrumentMariadb(pool);
    const markers: string[] = [];
    const work: Promise<unknown>[] = [];
    try {
      await pool.query('SELECT 1'); // opens the pool's connections (watched) before the marked statements
      for (let i = 0; i < 10; i++) {
        const q = marker();
        const x = marker();
        const b = marker();
        const p = marker();
        markers.push(q, x, b, p);
        work.push(conn.query(`INSERT INTO ${table} (m) VALUES ('${q}')`));
        work.push(conn.execute(`INSERT INTO ${table} (m) VALUES (?) /* ${x} */`, [x]));
        work.push(conn.batch(`INSERT INTO ${table} (m) VALUES (?) /* ${b} */`, [[b], [b]]));
        work.push(pool.query(`INSERT INTO ${table} (m) VALUES ('${p}')`));
      }
      await Promise.all(work);
    } finally {
      await conn.end();
      await pool.end();
      await auditor.close();
    }
    const [row] = await admin<Array<{ n: bigint }>>(`SELECT COUNT(*) AS n FROM ${table} WHERE m LIKE ?`, [`qtd_${run}_%`]);
    assert.equal(Number(row!.n), markers.length + 10, 'the server executed every statement (batches insert 2 rows)');
    for (const m of markers) {
      assert.deepEqual(probe.seen.get(m), { inFile: true, durable: true }, `${m}: attempt durable before its packet was written`);
    }
    const records = readJournal(dir);
    for (const m of markers) {
      const [attempt] = attemptsWith(records, m);
      assert.equal(records.filter((r) => r.type === 'db.query' && r.attempt_id === attempt?.event_id).length, 1, `${m}: one db.query`);
    }
    assert.equal(verifyJournal(dir).ok, true);
  });

  test('control: the probe catches a wrapper that sends without waiting for ready', async () => {
    const dir = tempDir('qt-mdb-sync-ctl-');
    const auditor = syncAuditor(dir);
    const probe = new SocketProbe(dir, MARKERS);
    probe.observe(auditor);
    const conn = instrumentMariadb(impatient(auditor), await mariadb.createConnection(DB));
    probe.watch(socketOf(conn));
    const m = marker();
    try {
      await conn.query(`SELECT '${m}' AS m`);
    } finally {
      await conn.end();
      await auditor.close();
    }
    assert.deepEqual(probe.seen.get(m), { inFile: false, durable: false });
  });

  test('a statement that need not wait never overtakes one still waiting for its attempt record', async () => {
    const dir = tempDir('qt-mdb-order-');
    const auditor = syncAuditor(dir);
    let n = 0;
    const recorder: StatementRecorder = {
      begin(start) {
        const h = auditor.begin(start);
        const i = ++n;
        const ready = i === 1 ? h.ready!.then(() => new Promise<void>((r) => setTimeout(r, 80))) : i === 3 ? undefined : h.ready;
        return { ready, addRows: (c) => h.addRows(c), succeed: (o) => h.succeed(o), fail: (e, c) => h.fail(e, c) };
      },
      connection: (type, db) => auditor.connection(type, db),
    };
    const conn = instrumentMariadb(recorder, await mariadb.createConnection(DB));
    const p = `ord_${randomBytes(4).toString('hex')}_`;
    try {
      await Promise.all([
        conn.query(`INSERT INTO ${table} (m) VALUES ('${p}1')`),
        conn.execute(`INSERT INTO ${table} (m) VALUES (?)`, [`${p}2`]),
        conn.query(`INSERT INTO ${table} (m) VALUES ('${p}3')`),
      ]);
    } finally {
      await conn.end();
      await auditor.close();
    }
    const rows = await admin<Array<{ m: string }>>(`SELECT m FROM ${table} WHERE m LIKE ? ORDER BY id`, [`${p}%`]);
    assert.deepEqual(
      rows.map((r) => r.m),
      [`${p}1`, `${p}2`, `${p}3`],
    );
  });
});
