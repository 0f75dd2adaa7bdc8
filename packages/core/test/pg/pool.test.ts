import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuditor } from '@querytrail/core';
import pg from 'pg';
import { createTable, dropTable, harness, only, PG_CONFIG, uniqueTable } from './helpers.js';
import { readJournal } from './journal-probe.js';

describe('pg Pool', () => {
  const table = uniqueTable();
  const h = harness();
  let pool: pg.Pool;

  before(async () => {
    await createTable(table);
    pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
  });
  after(async () => {
    await pool.end();
    await dropTable(table);
  });

  test('same object back, instanceof holds, idempotent', () => {
    assert.ok(pool instanceof pg.Pool);
    assert.equal(h.auditor.instrumentPg(pool), pool);
  });

  test('pool.query promise: one event (not two), with the checked-out client as db', async () => {
    h.clear();
    const r = await pool.query(`SELECT id FROM ${table} WHERE id <= $1 /* pq1 */`, [2]);
    assert.equal(r.rows.length, 2);
    const ev = only(h.queries(), 'event');
    assert.equal(ev.statement?.text, `SELECT id FROM ${table} WHERE id <= $1 /* pq1 */`);
    assert.deepEqual(ev.statement?.params?.values, [2]);
    assert.equal(ev.result?.rows_returned, 2);
    assert.match(ev.db?.connection_id ?? '', /^\d+$/);
    assert.equal(ev.db?.server?.port, 5432);
    const connects = h.events.filter((e) => e.type === 'db.connect');
    assert.equal(connects.length, 1);
    assert.equal(connects[0]?.db?.connection_id, ev.db?.connection_id);
  });

  test('pool.query callback forms and config objects', async () => {
    h.clear();
    await new Promise<void>((resolve, reject) =>
      pool.query(`SELECT 1 /* pq2 */`, (err) => (err ? reject(err) : resolve())),
    );
    await new Promise<void>((resolve, reject) =>
      pool.query(`SELECT $1::int /* pq3 */`, [3], (err) => (err ? reject(err) : resolve())),
    );
    await pool.query({ text: `SELECT $1::text /* pq4 */`, values: ['a'], rowMode: 'array' });
    await assert.rejects(pool.query(`SELEC /* pq5 */`), { code: '42601' });
    assert.equal(h.queries().length, 4);
    assert.equal(only(h.withText('/* pq2 */'), 'pq2').result?.rows_returned, 1);
    assert.deepEqual(only(h.withText('/* pq3 */'), 'pq3').statement?.params?.values, [3]);
    assert.deepEqual(only(h.withText('/* pq4 */'), 'pq4').statement?.params?.values, ['a']);
    assert.equal(only(h.withText('/* pq5 */'), 'pq5').result?.error?.code, '42601');
  });

  test('pool.connect promise and callback, then client.query', async () => {
    h.clear();
    const c1 = await pool.connect();
    try {
      await c1.query(`SELECT 1 /* pc1 */`);
      await c1.query(`INSERT INTO ${table} VALUES (200, 'x') /* pc2 */`);
    } finally {
      c1.release();
    }
    await new Promise<void>((resolve, reject) =>
      pool.connect((err, c2, done) => {
        if (err || !c2) return reject(err);
        c2.query(`SELECT 2 /* pc3 */`, (qerr) => {
          done();
          return qerr ? reject(qerr) : resolve();
        });
      }),
    );
    assert.equal(h.queries().length, 3);
    assert.equal(only(h.withText('/* pc2 */'), 'pc2').result?.rows_affected, 1);
    assert.equal(only(h.withText('/* pc3 */'), 'pc3').result?.rows_returned, 1);
  });

  test('named statement through pool.connect keeps its text per connection', async () => {
    h.clear();
    const c = await pool.connect();
    try {
      const name = `qt_pool_${table}`;
      await c.query({ name, text: `SELECT v FROM ${table} WHERE id = $1 /* pn */`, values: [1] });
      await c.query({ name, values: [2] } as pg.QueryConfig);
    } finally {
      c.release();
    }
    const [a, b] = h.queries();
    assert.equal(b?.statement?.text, a?.statement?.text);
    assert.equal(b?.statement?.prepared_name, a?.statement?.prepared_name);
    assert.deepEqual(b?.statement?.params?.values, [2]);
  });

  test('clients already idle in a pool before instrumenting are instrumented', async () => {
    const h2 = harness();
    const p = new pg.Pool({ ...PG_CONFIG, max: 2 });
    try {
      const [a, b] = await Promise.all([p.connect(), p.connect()]);
      a.release();
      // b stays checked out while the pool is instrumented
      h2.auditor.instrumentPg(p);
      assert.equal(p.idleCount, 1);
      await p.query(`SELECT 1 /* idle1 */`);
      await b.query(`SELECT 1 /* out1 */`);
      b.release();
      await Promise.all([p.query(`SELECT 1 /* idle2 */`), p.query(`SELECT 1 /* idle3 */`)]);
      assert.equal(h2.queries().length, 4);
      for (const m of ['idle1', 'out1', 'idle2', 'idle3']) only(h2.withText(`/* ${m} */`), m);
    } finally {
      await p.end();
    }
  });

  test('onConnect hook statements are captured, db.connect/db.disconnect from pool events', async () => {
    const h2 = harness();
    const p = h2.auditor.instrumentPg(
      new pg.Pool({
        ...PG_CONFIG,
        max: 1,
        onConnect: async (client: pg.PoolClient) => {
          await client.query(`SET application_name = 'qt' /* hook */`);
        },
      } as unknown as pg.PoolConfig),
    );
    await p.query('SELECT 1 /* after-hook */');
    only(h2.withText('/* hook */'), 'hook');
    only(h2.withText('/* after-hook */'), 'after-hook');
    const pid = h2.withText('/* after-hook */')[0]?.db?.connection_id;
    await p.end(); // settles after the clients closed: their db.disconnect is recorded
    const connect = only(h2.events.filter((e) => e.type === 'db.connect'), 'db.connect');
    const disconnect = only(h2.events.filter((e) => e.type === 'db.disconnect'), 'db.disconnect');
    assert.equal(connect.db?.connection_id, pid);
    assert.equal(disconnect.db?.connection_id, pid);
  });

  test('more concurrent work than clients: every statement once', async () => {
    h.clear();
    await Promise.all(Array.from({ length: 20 }, (_, i) => pool.query(`SELECT $1::int AS n /* many */`, [i])));
    const evs = h.withText('/* many */');
    assert.equal(evs.length, 20);
    assert.deepEqual(
      evs.map((e) => e.statement?.params?.values?.[0]).sort((a, b) => Number(a) - Number(b)),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.ok(pool.totalCount <= 2);
  });

  test('await pool.end(); await auditor.close(): every db.disconnect is in the journal, none lost', async () => {
    // pg-pool's own end() settles before its clients have closed; the journal closing in between
    // lost their db.disconnect (with a warning). Sync mode closes fastest, so it lost them most.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      for (let round = 0; round < 5; round += 1) {
        const dir = mkdtempSync(join(tmpdir(), 'qt-pg-end-'));
        try {
          const auditor = createAuditor({ service: { name: 'pool-end' }, journal: { dir, mode: 'sync' }, catalog: { mode: false } });
          const p = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
          const [a, b] = await Promise.all([p.connect(), p.connect()]);
          await Promise.all([a.query('SELECT 1 /* end-a */'), b.query('SELECT 2 /* end-b */')]);
          a.release();
          b.release();
          let callbackCalled = false;
          await new Promise<void>((resolve, reject) =>
            p.end((err?: Error) => {
              callbackCalled = true;
              if (err) reject(err);
              else resolve();
            }),
          );
          assert.ok(callbackCalled);
          await auditor.close();
          const types = readJournal(dir).map((e) => e.type);
          assert.equal(types.filter((t) => t === 'db.connect').length, 2, `round ${round}`);
          assert.equal(types.filter((t) => t === 'db.disconnect').length, 2, `round ${round}: ${types.join(' ')}`);
          assert.equal(types.at(-1), 'sdk.stop');
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

  test('pool.end() twice: the second still fails as pg-pool says, promise and callback', async () => {
    const p = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
    await p.query('SELECT 1 /* twice */');
    const first = p.end();
    await assert.rejects(p.end(), /Called end on pool more than once/);
    await first;
    const err = await new Promise<unknown>((resolve) => (p.end as unknown as (cb: (err?: unknown) => void) => void).call(p, resolve));
    assert.match(String(err), /Called end on pool more than once/);
  });
});
