import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { createAuditor, type QuerytrailEvent, type StatementRecorder, verifyJournal } from '@querytrail/core';
import type { Auditor } from '../../src/auditor/auditor.js';
import { instrumentPg } from '../../src/drivers/pg/instrument.js';
import { tempDir } from '../support/temp-dir.js';
import { admin, PG_CONFIG, submit, uniqueTable } from './helpers.js';
import { attemptsWith, breakJournal, impatient, readJournal, SocketProbe } from './journal-probe.js';

const MARKERS = /qtm_[0-9a-f]{8}_\d+/g;
const run = randomBytes(4).toString('hex');
let counter = 0;
const marker = () => `qtm_${run}_${++counter}`;

function syncAuditor(dir: string, syncTimeoutMs?: number): Auditor {
  return createAuditor({
    service: { name: 'pg-sync' },
    journal: { dir, mode: 'sync', ...(syncTimeoutMs === undefined ? {} : { syncTimeoutMs }) },
  }) as Auditor;
}

/** pg's connection socket (not in @types/pg). */
function socketOf(client: pg.Client | pg.PoolClient): unknown {
  return (client as unknown as { connection: { stream: unknown } }).connection.stream;
}

/** pool.end() resolves before the pool's 'remove' events (db.disconnect): wait for those too. */
async function endPool(pool: pg.Pool): Promise<void> {
  const n = pool.totalCount;
  let removed = 0;
  const gone = new Promise<void>((resolve) => {
    if (n === 0) resolve();
    pool.on('remove', () => {
      if (++removed === n) resolve();
    });
  });
  await pool.end();
  await gone;
}

const isUnavailable = (e: unknown) => (e as { code?: unknown }).code === 'QT_ERR_JOURNAL_UNAVAILABLE';

async function countMarked(table: string, prefix: string): Promise<number> {
  const rows = await admin<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE m LIKE $1`, [`${prefix}%`]);
  return Number(rows[0]!.n);
}

describe('pg, sync delivery: the attempt is durable before the statement is sent', () => {
  const table = uniqueTable();
  before(() => admin(`CREATE TABLE ${table} (id serial PRIMARY KEY, m text NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  test('pool.query, client.query (promise and callback) and a cursor: every packet leaves after its attempt is on disk', async () => {
    const dir = tempDir('qt-pg-sync-');
    const auditor = syncAuditor(dir);
    const probe = new SocketProbe(dir, MARKERS);
    probe.observe(auditor);
    const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 4 }));
    pool.on('connect', (c) => probe.watch(socketOf(c)));
    const client = auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await client.connect();
    probe.watch(socketOf(client));
    const insert = (m: string) => `INSERT INTO ${table} (m) VALUES ('${m}')`;
    const markers: string[] = [];
    const work: Promise<unknown>[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const viaPool = marker();
        markers.push(viaPool);
        work.push(pool.query(insert(viaPool)));
        const viaPromise = marker();
        markers.push(viaPromise);
        work.push(client.query({ text: `INSERT INTO ${table} (m) VALUES ($1) /* ${viaPromise} */`, values: [viaPromise] }));
        const viaCallback = marker();
        markers.push(viaCallback);
        work.push(new Promise((resolve, reject) => client.query(insert(viaCallback), (err, r) => (err ? reject(err) : resolve(r)))));
      }
      const viaCursor = marker();
      markers.push(viaCursor);
      const cursor = submit(client, new Cursor(`INSERT INTO ${table} (m) VALUES ('${viaCursor}') RETURNING m`)) as Cursor;
      work.push(cursor.read(10).then((rows) => cursor.close().then(() => rows)));
      await Promise.all(work);
    } finally {
      await client.end();
      await endPool(pool);
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
    const dir = tempDir('qt-pg-sync-ctl-');
    const auditor = syncAuditor(dir);
    const probe = new SocketProbe(dir, MARKERS);
    probe.observe(auditor);
    const client = instrumentPg(impatient(auditor), new pg.Client(PG_CONFIG));
    await client.connect();
    probe.watch(socketOf(client));
    const m = marker();
    try {
      await client.query(`SELECT '${m}' AS m`);
    } finally {
      await client.end();
      await auditor.close();
    }
    assert.deepEqual(probe.seen.get(m), { inFile: false, durable: false });
    assert.equal(attemptsWith(readJournal(dir), m).length, 1, 'the attempt was written, only too late');
  });
});

describe('pg, sync delivery: per-client statement order', () => {
  const table = uniqueTable();
  before(() => admin(`CREATE TABLE ${table} (id serial PRIMARY KEY, m text NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  async function idsInOrder(prefix: string): Promise<string[]> {
    const rows = await admin<{ m: string }>(`SELECT m FROM ${table} WHERE m LIKE $1 ORDER BY id`, [`${prefix}%`]);
    return rows.map((r) => r.m);
  }

  test('three statements issued without awaiting run in call order (promise, callback, cursor)', async () => {
    const dir = tempDir('qt-pg-order-');
    const auditor = syncAuditor(dir);
    const client = auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await client.connect();
    const p = `ord_${randomBytes(4).toString('hex')}_`;
    try {
      const first = client.query(`INSERT INTO ${table} (m) VALUES ('${p}1')`);
      const second = new Promise((resolve, reject) =>
        client.query(`INSERT INTO ${table} (m) VALUES ('${p}2')`, (err, r) => (err ? reject(err) : resolve(r))),
      );
      const cursor = submit(client, new Cursor(`INSERT INTO ${table} (m) VALUES ('${p}3') RETURNING id`)) as Cursor;
      await Promise.all([first, second, cursor.read(1).then(() => cursor.close())]);
    } finally {
      await client.end();
      await auditor.close();
    }
    assert.deepEqual(await idsInOrder(p), [`${p}1`, `${p}2`, `${p}3`]);
  });

  test('a statement that need not wait never overtakes one still waiting for its attempt record', async () => {
    // The first statement's ready settles 80 ms after the journal's; the third has no ready at all
    // (as for a statement class in async mode). Without the client's FIFO both later ones would go first.
    const dir = tempDir('qt-pg-order-mixed-');
    const auditor = syncAuditor(dir);
    let n = 0;
    const order: string[] = [];
    const recorder: StatementRecorder = {
      begin(start) {
        const h = auditor.begin(start);
        const i = ++n;
        const ready = i === 1 ? h.ready!.then(() => new Promise<void>((r) => setTimeout(r, 80))) : i === 3 ? undefined : h.ready;
        void ready?.then(() => order.push(`ready ${i}`));
        return { ready, addRows: (c) => h.addRows(c), succeed: (o) => h.succeed(o), fail: (e, c) => h.fail(e, c) };
      },
      connection: (type, db) => auditor.connection(type, db),
    };
    const client = new pg.Client(PG_CONFIG);
    await client.connect();
    instrumentPg(recorder, client);
    const p = `mix_${randomBytes(4).toString('hex')}_`;
    try {
      await Promise.all([
        client.query(`INSERT INTO ${table} (m) VALUES ('${p}1')`),
        client.query(`INSERT INTO ${table} (m) VALUES ('${p}2')`),
        client.query(`INSERT INTO ${table} (m) VALUES ('${p}3')`),
      ]);
    } finally {
      await client.end();
      await auditor.close();
    }
    assert.deepEqual(order, ['ready 2', 'ready 1'], 'the second was durable first, yet waited');
    assert.deepEqual(await idsInOrder(p), [`${p}1`, `${p}2`, `${p}3`]);
  });
});

describe('pg, sync delivery: when the journal cannot store the attempt', () => {
  const table = uniqueTable();
  before(() => admin(`CREATE TABLE ${table} (id serial PRIMARY KEY, m text NOT NULL)`));
  after(() => admin(`DROP TABLE IF EXISTS ${table}`));

  test('the statement is refused (QT_ERR_JOURNAL_UNAVAILABLE), never sent, the pool client survives, the journal verifies', async () => {
    const dir = tempDir('qt-pg-sync-fail-');
    const auditor = syncAuditor(dir, 150);
    const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
    let removed = 0;
    pool.on('remove', () => removed++);
    const pid = async () => (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const p = `fail_${randomBytes(4).toString('hex')}_`;
    const insert = (i: number) => `INSERT INTO ${table} (m) VALUES ('${p}${i}')`;
    let restore = () => {};
    try {
      const pidBefore = await pid();
      await auditor.flush();
      restore = breakJournal(auditor);
      await assert.rejects(pool.query(insert(1)), isUnavailable);
      const viaCallback = await new Promise<unknown>((resolve) => pool.query(insert(2), (err) => resolve(err)));
      assert.ok(isUnavailable(viaCallback), 'callback gets the error');
      const client = await pool.connect();
      try {
        await assert.rejects(client.query(insert(3)), isUnavailable);
        const cursor = submit(client, new Cursor(insert(4))) as Cursor;
        await assert.rejects(cursor.read(1), isUnavailable);
      } finally {
        client.release();
      }
      restore();
      await auditor.flush(); // the writer's retry gets through with the real file again
      assert.equal(await countMarked(table, p), 0, 'nothing reached the server');
      assert.equal(await pid(), pidBefore, 'same backend: the pool client was neither destroyed nor replaced');
      assert.equal(removed, 0);
      assert.equal(pool.totalCount, 1);
      assert.equal(pool.idleCount, 1, 'released, not leaked');
      await pool.query(insert(5));
      assert.equal(await countMarked(table, p), 1, 'the pool works again');
    } finally {
      restore(); // idempotent; a failed assertion must not leave close() retrying a dead file
      await endPool(pool);
      await auditor.close();
    }
    const records = readJournal(dir);
    for (const i of [1, 2, 3, 4]) {
      const [attempt] = attemptsWith(records, `${p}${i}'`);
      assert.ok(attempt, `attempt ${i} is in the journal (written once the disk recovered)`);
      const outcome = records.find((r: QuerytrailEvent) => r.type === 'db.query' && r.attempt_id === attempt.event_id);
      assert.equal(outcome?.result?.outcome, 'blocked', `statement ${i} recorded as blocked`);
      assert.equal(outcome?.result?.error?.code, 'QT_ERR_JOURNAL_UNAVAILABLE');
    }
    assert.equal(verifyJournal(dir).ok, true);
  });
});
