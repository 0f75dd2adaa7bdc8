import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import Cursor from 'pg-cursor';
import QueryStream from 'pg-query-stream';
import { createTable, dropTable, harness, only, PG_CONFIG, settle, uniqueTable } from './helpers.js';

describe('pg submittables: pg-cursor, pg-query-stream', () => {
  const table = uniqueTable();
  const h = harness();
  let client: pg.Client;
  let pool: pg.Pool;

  before(async () => {
    await createTable(table);
    client = h.auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await client.connect();
    pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
  });
  after(async () => {
    await client.end();
    await pool.end();
    await dropTable(table);
  });

  test('cursor read to the end: one event, rows counted as read', async () => {
    h.clear();
    const cursor = client.query(new Cursor(`SELECT id FROM ${table} WHERE id <= $1 ORDER BY id /* c1 */`, [7]));
    const a = await cursor.read(3);
    const b = await cursor.read(3);
    const c = await cursor.read(3);
    const d = await cursor.read(3);
    assert.deepEqual([a.length, b.length, c.length, d.length], [3, 3, 1, 0]);
    await cursor.close();
    await settle();
    const ev = only(h.queries(), 'event');
    assert.equal(ev.statement?.text, `SELECT id FROM ${table} WHERE id <= $1 ORDER BY id /* c1 */`);
    assert.deepEqual(ev.statement?.params?.values, ['7']); // pg-cursor prepares values to text
    assert.deepEqual(ev.result, { outcome: 'success', rows_returned: 7 });
  });

  test('cursor closed early: one event with the rows read so far', async () => {
    h.clear();
    const cursor = client.query(new Cursor(`SELECT id FROM ${table} ORDER BY id /* c2 */`));
    const rows = await cursor.read(4);
    assert.equal(rows.length, 4);
    await cursor.close();
    await settle();
    const ev = only(h.queries(), 'event');
    assert.deepEqual(ev.result, { outcome: 'success', rows_returned: 4 });
    assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
  });

  test('cursor with callback read and an SQL error: SQLSTATE recorded once', async () => {
    h.clear();
    const cursor = client.query(new Cursor(`SELECT 1/0 /* c3 */`));
    const err = await new Promise<Error & { code?: string }>((resolve) => cursor.read(1, (e?: Error) => resolve(e!)));
    assert.equal(err.code, '22012');
    await settle();
    const ev = only(h.queries(), 'event');
    assert.equal(ev.result?.outcome, 'failure');
    assert.equal(ev.result?.error?.code, '22012');
    assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
  });

  test('query stream read to the end', async () => {
    h.clear();
    const stream = client.query(new QueryStream(`SELECT id FROM ${table} ORDER BY id /* s1 */`, [], { batchSize: 3 }));
    let n = 0;
    for await (const _row of stream) n++;
    assert.equal(n, 10);
    await settle();
    const ev = only(h.queries(), 'event');
    assert.equal(ev.statement?.text, `SELECT id FROM ${table} ORDER BY id /* s1 */`);
    assert.deepEqual(ev.result, { outcome: 'success', rows_returned: 10 });
  });

  test('query stream destroyed early still produces exactly one event', async () => {
    h.clear();
    const stream = client.query(
      new QueryStream(`SELECT g FROM generate_series(1, 100000) g /* s2 */`, [], { batchSize: 10, highWaterMark: 10 }),
    );
    let n = 0;
    for await (const _row of stream) {
      if (++n === 15) break; // destroys the stream
    }
    await new Promise((resolve) => stream.once('close', resolve));
    await settle();
    const ev = only(h.withText('/* s2 */'), 'event');
    assert.equal(ev.statement?.text, `SELECT g FROM generate_series(1, 100000) g /* s2 */`);
    assert.equal(ev.result?.outcome, 'success');
    assert.ok((ev.result?.rows_returned ?? 0) >= 15, `rows_returned ${ev.result?.rows_returned}`);
    assert.ok((ev.result?.rows_returned ?? 0) < 100000);
    assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
    assert.equal(h.queries().length, 2);
  });

  test('query stream on a pool-checked-out client', async () => {
    h.clear();
    const c = await pool.connect();
    try {
      const stream = c.query(new QueryStream(`SELECT id FROM ${table} WHERE id <= $1 /* s3 */`, [5]));
      let n = 0;
      for await (const _row of stream) n++;
      assert.equal(n, 5);
    } finally {
      c.release();
    }
    await settle();
    const ev = only(h.withText('/* s3 */'), 'event');
    assert.deepEqual(ev.statement?.params?.values, ['5']);
    assert.equal(ev.result?.rows_returned, 5);
  });
});
