import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { backendPid, createTable, dropTable, harness, only, PG_CONFIG, settle, uniqueTable } from './helpers.js';

describe('pg Client', () => {
  const table = uniqueTable();
  const h = harness();
  let client: pg.Client;

  before(async () => {
    await createTable(table);
    client = h.auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await client.connect();
  });
  after(async () => {
    await client.end();
    await dropTable(table);
  });

  test('same object back, instanceof holds, idempotent', () => {
    const c = new pg.Client(PG_CONFIG);
    const a = h.auditor.instrumentPg(c);
    const b = h.auditor.instrumentPg(c);
    assert.equal(a, c);
    assert.equal(b, c);
    assert.ok(c instanceof pg.Client);
    assert.throws(() => h.auditor.instrumentPg({}), { code: 'QT_ERR_INVALID_ARGUMENT' });
  });

  test('db.connect after connect, with db fields and backend pid', () => {
    const ev = only(h.events.filter((e) => e.type === 'db.connect'), 'db.connect');
    assert.deepEqual(ev.db, {
      system: 'postgresql',
      driver: 'pg',
      namespace: 'test',
      user: 'postgres',
      server: { address: '127.0.0.1', port: 5432 },
      connection_id: backendPid(client),
    });
  });

  test('text, promise: text, rows returned, duration, db fields', async () => {
    h.clear();
    const res = await client.query(`SELECT id FROM ${table} WHERE id <= 3 /* t1 */`);
    assert.equal(res.rows.length, 3);
    const ev = only(h.withText('/* t1 */'), 'event');
    assert.equal(ev.statement?.text, `SELECT id FROM ${table} WHERE id <= 3 /* t1 */`);
    assert.equal(ev.statement?.params, undefined);
    assert.deepEqual(ev.result, { outcome: 'success', rows_returned: 3 });
    assert.equal(typeof ev.duration_us, 'number');
    assert.ok(ev.duration_us! >= 0);
    assert.equal(ev.db?.connection_id, backendPid(client));
    assert.equal(ev.db?.namespace, 'test');
    assert.equal(h.queries().length, 1);
  });

  test('text + values, promise: params recorded', async () => {
    h.clear();
    await client.query(`SELECT id, v FROM ${table} WHERE id = $1 AND v = $2 /* t2 */`, [4, 'v4']);
    const ev = only(h.withText('/* t2 */'), 'event');
    assert.deepEqual(ev.statement?.params, { mode: 'raw', count: 2, values: [4, 'v4'] });
    assert.equal(ev.result?.rows_returned, 1);
  });

  test('text + callback, and text + values + callback', async () => {
    h.clear();
    const r1 = await new Promise<pg.QueryResult>((resolve, reject) =>
      client.query(`SELECT 1 AS x /* t3 */`, (err: Error | null, r: pg.QueryResult) => (err ? reject(err) : resolve(r))),
    );
    assert.equal(r1.rows[0].x, 1);
    const r2 = await new Promise<pg.QueryResult>((resolve, reject) =>
      client.query(`SELECT $1::int AS x /* t4 */`, [7], (err: Error | null, r: pg.QueryResult) => (err ? reject(err) : resolve(r))),
    );
    assert.equal(r2.rows[0].x, 7);
    assert.equal(only(h.withText('/* t3 */'), 't3').result?.rows_returned, 1);
    const t4 = only(h.withText('/* t4 */'), 't4');
    assert.deepEqual(t4.statement?.params?.values, [7]);
    assert.equal(h.queries().length, 2);
  });

  test('config object {text, values, rowMode, types}, promise and config.callback', async () => {
    h.clear();
    const types = { getTypeParser: () => (v: string) => `parsed:${v}` };
    const r = await client.query({ text: `SELECT $1::text AS a /* t5 */`, values: ['x'], rowMode: 'array', types });
    assert.deepEqual(r.rows, [['parsed:x']]);
    const t5 = only(h.withText('/* t5 */'), 't5');
    assert.deepEqual(t5.statement?.params?.values, ['x']);
    assert.equal(t5.result?.rows_returned, 1);
    await new Promise<void>((resolve, reject) => {
      const cfg = { text: 'SELECT 2 AS y /* t6 */', callback: (err: Error | null) => (err ? reject(err) : resolve()) };
      client.query(cfg as unknown as pg.QueryConfig);
    });
    assert.equal(only(h.withText('/* t6 */'), 't6').result?.rows_returned, 1);
    // values argument overrides config.values, as in pg
    await client.query({ text: `SELECT $1::int AS z /* t7 */`, values: [1] }, [2]);
    assert.deepEqual(only(h.withText('/* t7 */'), 't7').statement?.params?.values, [2]);
  });

  test('writes: rows affected for INSERT / UPDATE / DELETE, RETURNING counts both', async () => {
    h.clear();
    await client.query(`INSERT INTO ${table} (id, v) VALUES (100, 'a'), (101, 'b') /* w1 */`);
    await client.query(`UPDATE ${table} SET v = 'c' WHERE id >= 100 /* w2 */`);
    await client.query(`DELETE FROM ${table} WHERE id = 101 RETURNING id /* w3 */`);
    await client.query(`DELETE FROM ${table} WHERE id = 100 /* w4 */`);
    assert.deepEqual(only(h.withText('/* w1 */'), 'w1').result, { outcome: 'success', rows_affected: 2 });
    assert.deepEqual(only(h.withText('/* w2 */'), 'w2').result, { outcome: 'success', rows_affected: 2 });
    assert.deepEqual(only(h.withText('/* w3 */'), 'w3').result, { outcome: 'success', rows_returned: 1, rows_affected: 1 });
    assert.deepEqual(only(h.withText('/* w4 */'), 'w4').result, { outcome: 'success', rows_affected: 1 });
  });

  test('multi-statement text: one event, rows summed', async () => {
    h.clear();
    const text = `SELECT id FROM ${table} WHERE id <= 2; SELECT id FROM ${table} WHERE id <= 3; UPDATE ${table} SET v = v WHERE id <= 4 /* m1 */`;
    const res = (await client.query(text)) as unknown as pg.QueryResult[];
    assert.equal(res.length, 3);
    const ev = only(h.queries(), 'event');
    assert.equal(ev.statement?.text, text);
    assert.deepEqual(ev.result, { outcome: 'success', rows_returned: 5, rows_affected: 4 });
  });

  test('errors: SQLSTATE code, promise and callback', async () => {
    h.clear();
    const e1 = await client.query(`SELEC 1 /* e1 */`).then(
      () => assert.fail('SELEC is refused'),
      (e: Error & { code?: string }) => e,
    );
    assert.equal(e1.code, '42601');
    assert.match(e1.stack ?? '', /client\.test\.ts/, 'a promise-mode error\'s stack leads back to the app, as pg makes it');
    assert.ok(e1 instanceof Error);
    await assert.rejects(client.query(`INSERT INTO ${table} (id) VALUES (1) /* e2 */`), { code: '23505' });
    const err = await new Promise<Error & { code?: string }>((resolve) =>
      client.query(`SELECT * FROM qt_pg_missing_table /* e3 */`, (e: Error) => resolve(e)),
    );
    assert.equal(err.code, '42P01');
    assert.equal(only(h.withText('/* e1 */'), 'e1').result?.error?.code, '42601');
    assert.equal(only(h.withText('/* e1 */'), 'e1').result?.outcome, 'failure');
    assert.equal(only(h.withText('/* e2 */'), 'e2').result?.error?.code, '23505');
    assert.equal(only(h.withText('/* e3 */'), 'e3').result?.error?.code, '42P01');
    assert.equal(h.queries().length, 3);
    // still usable
    assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
  });

  test('named prepared statements: text kept for later {name, values} calls', async () => {
    h.clear();
    const name = `qt_${table}`;
    const text = `SELECT v FROM ${table} WHERE id = $1 /* p1 */`;
    const r1 = await client.query({ name, text, values: [1] });
    const r2 = await client.query({ name, values: [2] } as pg.QueryConfig);
    const r3 = await new Promise<pg.QueryResult>((resolve, reject) =>
      client.query({ name, values: [3] } as pg.QueryConfig, (e: Error | null, r: pg.QueryResult) => (e ? reject(e) : resolve(r))),
    );
    assert.deepEqual([r1.rows[0].v, r2.rows[0].v, r3.rows[0].v], ['v1', 'v2', 'v3']);
    const evs = h.queries();
    assert.equal(evs.length, 3);
    for (const [i, ev] of evs.entries()) {
      assert.equal(ev.statement?.text, text);
      assert.equal(ev.statement?.prepared_name, name);
      assert.deepEqual(ev.statement?.params?.values, [i + 1]);
      assert.equal(ev.result?.rows_returned, 1);
    }
  });

  test('pg.Query submittable: one event, rows counted', async () => {
    h.clear();
    const q = new pg.Query(`SELECT id FROM ${table} WHERE id <= $1 /* q1 */`, [4]);
    const rows: unknown[] = [];
    q.on('row', (r) => rows.push(r));
    await new Promise<void>((resolve, reject) => {
      q.on('end', () => resolve());
      q.on('error', reject);
      client.query(q);
    });
    assert.equal(rows.length, 4);
    const ev = only(h.queries(), 'event');
    assert.deepEqual(ev.statement?.params?.values, [4]);
    assert.deepEqual(ev.result, { outcome: 'success', rows_returned: 4 });
  });

  test('DDL and empty results', async () => {
    h.clear();
    const t2 = uniqueTable();
    await client.query(`CREATE TABLE ${t2} (id int)`);
    await client.query(`SELECT * FROM ${t2}`);
    await client.query(`DROP TABLE ${t2}`);
    const [c, s, d] = h.queries();
    assert.deepEqual(c?.result, { outcome: 'success' });
    assert.deepEqual(s?.result, { outcome: 'success', rows_returned: 0 });
    assert.deepEqual(d?.result, { outcome: 'success' });
  });

  test('db.disconnect when a standalone client ends', async () => {
    const c = h.auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await c.connect();
    const pid = backendPid(c);
    await c.end();
    await settle();
    const ev = only(
      h.events.filter((e) => e.type === 'db.disconnect' && e.db?.connection_id === pid),
      'db.disconnect',
    );
    assert.equal(ev.db?.system, 'postgresql');
  });
});
