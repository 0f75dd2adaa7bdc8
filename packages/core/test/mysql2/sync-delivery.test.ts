import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { createAuditor, type StatementRecorder, verifyJournal } from '@querytrail/core';
import mysql, { type PoolConnection, type RowDataPacket } from 'mysql2';
import type { Auditor } from '../../src/auditor/auditor.js';
import { instrumentMysql2 } from '../../src/drivers/mysql2/instrument.js';
import { tempDir } from '../support/temp-dir.js';
// Driver-neutral probe shared with the pg sync-delivery tests.
import { attemptsWith, breakJournal, impatient, readJournal, SocketProbe } from '../pg/journal-probe.js';
import { DB, tableName, waitFor } from './helpers.js';

const MARKERS = /qtm_[0-9a-f]{8}_\d+/g;
const run = randomBytes(4).toString('hex');
let counter = 0;
const marker = () => `qtm_${run}_${++counter}`;

function syncAuditor(dir: string, syncTimeoutMs?: number): Auditor {
  return createAuditor({
    service: { name: 'mysql2-sync' },
    journal: { dir, mode: 'sync', ...(syncTimeoutMs === undefined ? {} : { syncTimeoutMs }) },
  }) as Auditor;
}

type Queryable = mysql.Pool | mysql.Connection | PoolConnection;

function cbQuery(c: Queryable, sql: string, values?: unknown): Promise<RowDataPacket[]> {
  return new Promise((resolve, reject) =>
    c.query(sql, values as never, (err: unknown, rows: RowDataPacket[]) => (err ? reject(err) : resolve(rows))),
  );
}

/** The sockets of a connection, or of every connection of a pool. */
function socketsOf(c: mysql.Pool | mysql.Connection): EventEmitter[] {
  const all = (c as unknown as { _allConnections?: { length: number; get(i: number): unknown } })._allConnections;
  const conns = all ? Array.from({ length: all.length }, (_, i) => all.get(i)) : [c];
  return conns
    .map((x) => (x as { stream?: EventEmitter & { closed?: boolean } }).stream)
    .filter((s): s is EventEmitter & { closed?: boolean } => s !== undefined && s.closed !== true);
}

/** Ends `c` and waits for its sockets to close (db.disconnect is recorded then, before the auditor closes). */
async function end(c: mysql.Pool | mysql.Connection): Promise<void> {
  const closed = socketsOf(c).map((s) => new Promise((resolve) => s.once('close', resolve)));
  await new Promise<void>((resolve) => c.end(() => resolve()));
  await Promise.all(closed);
}

/** Setup and checks on a connection nobody instruments. */
async function admin(sql: string, values?: unknown): Promise<RowDataPacket[]> {
  const c = mysql.createConnection(DB);
  try {
    return await cbQuery(c, sql, values);
  } finally {
    await end(c);
  }
}

async function countMarked(table: string, prefix: string): Promise<number> {
  const rows = await admin(`SELECT count(*) AS n FROM ${table} WHERE m LIKE ?`, [`${prefix}%`]);
  return Number(rows[0]!.n);
}

const isUnavailable = (e: unknown) => (e as { code?: unknown }).code === 'QT_ERR_JOURNAL_UNAVAILABLE';
const socketOf = (c: unknown) => (c as { stream: unknown }).stream;

describe('mysql2, sync delivery: the attempt is durable before the statement is sent', () => {
  const table = tableName();
  before(() => admin(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, m VARCHAR(64) NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  test('pool.query (callback), promise pool.execute, connection.query (events): every packet leaves after its attempt is on disk', async () => {
    const dir = tempDir('qt-my-sync-');
    const auditor = syncAuditor(dir);
    const probe = new SocketProbe(dir, MARKERS);
    probe.observe(auditor);
    const pool = auditor.instrumentMysql2(mysql.createPool({ ...DB, connectionLimit: 4 }));
    pool.on('connection', (c) => probe.watch(socketOf(c)));
    const conn = auditor.instrumentMysql2(mysql.createConnection(DB));
    await new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(undefined))));
    probe.watch(socketOf(conn));
    const markers: string[] = [];
    const work: Promise<unknown>[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const viaQuery = marker();
        markers.push(viaQuery);
        work.push(cbQuery(pool, `INSERT INTO ${table} (m) VALUES ('${viaQuery}')`));
        // COM_STMT_PREPARE carries the text (marker in a comment), COM_STMT_EXECUTE the value.
        const viaExecute = marker();
        markers.push(viaExecute);
        work.push(pool.promise().execute(`INSERT INTO ${table} (m) VALUES (?) /* ${viaExecute} */`, [viaExecute]));
      }
      for (let i = 0; i < 10; i++) {
        const viaEvents = marker();
        markers.push(viaEvents);
        work.push(
          new Promise((resolve, reject) => {
            conn.query(`INSERT INTO ${table} (m) VALUES ('${viaEvents}')`).on('error', reject).on('end', resolve);
          }),
        );
      }
      await Promise.all(work);
    } finally {
      await end(conn);
      await end(pool);
      await auditor.close();
    }
    assert.equal(await countMarked(table, `qtm_${run}_`), markers.length, 'the server executed every statement');
    for (const m of markers) {
      assert.deepEqual(probe.seen.get(m), { inFile: true, durable: true }, `${m}: attempt durable before its packet was written`);
    }
    const records = readJournal(dir);
    for (const m of markers) {
      const [attempt] = attemptsWith(records, m);
      const done = records.filter((r) => r.type === 'db.query' && r.attempt_id === attempt?.event_id);
      assert.equal(done.length, 1, `${m}: one db.query linked to its attempt`);
      assert.equal(done[0]!.result?.outcome, 'success');
    }
    assert.equal(verifyJournal(dir).ok, true);
  });

  test('control: the same probe catches a wrapper that sends without waiting for ready', async () => {
    const dir = tempDir('qt-my-sync-ctl-');
    const auditor = syncAuditor(dir);
    const probe = new SocketProbe(dir, MARKERS);
    probe.observe(auditor);
    const conn = instrumentMysql2(impatient(auditor), mysql.createConnection(DB));
    await new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(undefined))));
    probe.watch(socketOf(conn));
    const m = marker();
    try {
      await cbQuery(conn, `SELECT '${m}' AS m`);
    } finally {
      await end(conn);
      await auditor.close();
    }
    assert.deepEqual(probe.seen.get(m), { inFile: false, durable: false });
    assert.equal(attemptsWith(readJournal(dir), m).length, 1, 'the attempt was written, only too late');
  });
});

describe('mysql2, sync delivery: per-connection statement order', () => {
  const table = tableName();
  before(() => admin(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, m VARCHAR(64) NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  test('a statement that need not wait never overtakes one still waiting for its attempt record', async () => {
    // As in the pg test: the first waits 80 ms longer than the journal, the third has no ready.
    const dir = tempDir('qt-my-order-mixed-');
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
    const conn = mysql.createConnection(DB);
    await new Promise((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve(undefined))));
    instrumentMysql2(recorder, conn);
    const p = `mix_${randomBytes(4).toString('hex')}_`;
    try {
      await Promise.all([
        cbQuery(conn, `INSERT INTO ${table} (m) VALUES ('${p}1')`),
        conn.promise().execute(`INSERT INTO ${table} (m) VALUES (?)`, [`${p}2`]),
        cbQuery(conn, `INSERT INTO ${table} (m) VALUES ('${p}3')`),
      ]);
    } finally {
      await end(conn);
      await auditor.close();
    }
    const rows = await admin(`SELECT m FROM ${table} WHERE m LIKE ? ORDER BY id`, [`${p}%`]);
    assert.deepEqual(
      rows.map((r) => r.m),
      [`${p}1`, `${p}2`, `${p}3`],
    );
  });
});

describe('mysql2, sync delivery: when the journal cannot store the attempt', () => {
  const table = tableName();
  before(() => admin(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, m VARCHAR(64) NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  test('the statement is refused (QT_ERR_JOURNAL_UNAVAILABLE), never sent, the pooled connection survives, the journal verifies', async () => {
    const dir = tempDir('qt-my-sync-fail-');
    const auditor = syncAuditor(dir, 150);
    const pool = auditor.instrumentMysql2(mysql.createPool({ ...DB, connectionLimit: 1 }));
    const internals = pool as unknown as { _allConnections: { length: number }; _freeConnections: { length: number } };
    const threadId = async () => Number((await cbQuery(pool, 'SELECT CONNECTION_ID() AS id'))[0]!.id);
    const p = `fail_${randomBytes(4).toString('hex')}_`;
    const insert = (i: number) => `INSERT INTO ${table} (m) VALUES ('${p}${i}')`;
    let restore = () => {};
    try {
      const idBefore = await threadId();
      await auditor.flush();
      restore = breakJournal(auditor);
      await assert.rejects(pool.promise().query(insert(1)), isUnavailable);
      await assert.rejects(cbQuery(pool, insert(2)), isUnavailable);
      await assert.rejects(pool.promise().execute(`INSERT INTO ${table} (m) VALUES (?)`, [`${p}3`]), isUnavailable);
      restore();
      await auditor.flush(); // the writer's retry gets through with the real file again
      assert.equal(await countMarked(table, p), 0, 'nothing reached the server');
      assert.equal(await threadId(), idBefore, 'same server thread: the connection was neither destroyed nor replaced');
      await waitFor(() => internals._freeConnections.length === 1);
      assert.equal(internals._allConnections.length, 1, 'released, not leaked');
      await cbQuery(pool, insert(4));
      assert.equal(await countMarked(table, p), 1, 'the pool works again');
    } finally {
      restore(); // idempotent; a failed assertion must not leave close() retrying a dead file
      await end(pool);
      await auditor.close();
    }
    const records = readJournal(dir);
    for (const i of [1, 2, 3]) {
      const [attempt] = attemptsWith(records, i === 3 ? 'VALUES (?)' : `${p}${i}'`);
      assert.ok(attempt, `attempt ${i} is in the journal (written once the disk recovered)`);
      const outcome = records.find((r) => r.type === 'db.query' && r.attempt_id === attempt.event_id);
      assert.equal(outcome?.result?.outcome, 'blocked', `statement ${i} recorded as blocked`);
      assert.equal(outcome?.result?.error?.code, 'QT_ERR_JOURNAL_UNAVAILABLE');
    }
    assert.equal(verifyJournal(dir).ok, true);
  });
});
