import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentContext, QueryBlockedError, runWithContext } from '@querytrail/core';
import mysql, { type PoolConnection, type RowDataPacket } from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { DB, harness, tableName, waitFor } from './helpers.js';

const actor = (id: string) => ({ actor: { type: 'human' as const, id } });

/** mysql2's internal pool lists (lib/base/pool.js) to prove no connection leaks or is destroyed. */
type PoolInternals = { _allConnections: { length: number }; _freeConnections: { length: number } };
const internals = (pool: mysql.Pool) => pool as unknown as PoolInternals;

function cbQuery(pool: mysql.Pool | PoolConnection, sql: string, values?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => pool.query(sql, values as never, (err: unknown, rows: unknown) => (err ? reject(err) : resolve(rows))));
}
function cbExecute(pool: mysql.Pool | PoolConnection, sql: string, values: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    pool.execute(sql, values as never, (err: unknown, rows: unknown) => (err ? reject(err) : resolve(rows))),
  );
}
function checkout(pool: mysql.Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => pool.getConnection((err, conn) => (err ? reject(err) : resolve(conn))));
}

describe('mysql2 Pool and mysql2/promise PromisePool', () => {
  const h = harness();
  const table = tableName();
  const pool = mysql.createPool({ ...DB, connectionLimit: 2 });
  const promisePool = pool.promise();

  before(async () => {
    assert.equal(h.auditor.instrumentMysql2(pool), pool);
    assert.equal(h.auditor.instrumentMysql2(promisePool), promisePool); // same core pool: no double wrap
    // mysql2's typings declare Pool / PromisePool as interfaces; the classes are exported at run time.
    const classes = { Pool: (mysql as unknown as { Pool: new () => object }).Pool, PromisePool: (mysqlPromise as unknown as { PromisePool: new () => object }).PromisePool };
    assert.ok(pool instanceof classes.Pool);
    assert.ok(promisePool instanceof classes.PromisePool);
    await cbQuery(pool, `CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(50))`);
    await cbQuery(pool, `INSERT INTO ${table} VALUES (1,'a'),(2,'b'),(3,'c')`);
  });
  after(async () => {
    await cbQuery(pool, `DROP TABLE IF EXISTS ${table}`);
    const open = internals(pool)._allConnections.length;
    await promisePool.end();
    await waitFor(() => h.ofType('db.disconnect').length === open);
  });

  test('pool.query / pool.execute / getConnection+query: exactly one event each, with the caller actor', async () => {
    const t1 = `SELECT id FROM ${table} WHERE id > ? /* pool.query */`;
    const t2 = `SELECT id FROM ${table} WHERE id > ? /* pool.execute */`;
    const t3 = `SELECT id FROM ${table} WHERE id > ? /* getConnection */`;
    await runWithContext(actor('erin'), async () => {
      await cbQuery(pool, t1, [1]);
      await cbExecute(pool, t2, [2]);
      const conn = await checkout(pool);
      assert.equal(currentContext()?.actor?.id, 'erin');
      try {
        await cbQuery(conn, t3, [0]);
      } finally {
        conn.release();
      }
    });
    for (const [text, rows, param] of [
      [t1, 2, 1],
      [t2, 1, 2],
      [t3, 3, 0],
    ] as const) {
      const events = h.queries(text);
      assert.equal(events.length, 1, text);
      assert.equal(events[0]?.result?.rows_returned, rows);
      assert.deepEqual(events[0]?.statement?.params?.values, [param]);
      assert.equal(events[0]?.actor?.id, 'erin');
      assert.equal(events[0]?.db?.system, 'mariadb');
      assert.match(events[0]?.db?.connection_id ?? '', /^\d+$/);
    }
  });

  test("pool.query in event mode releases the connection and counts rows", async () => {
    const text = `SELECT id FROM ${table} /* pool events */`;
    await new Promise<void>((resolve, reject) => pool.query(text).on('error', reject).on('end', () => resolve()));
    assert.equal(h.queries(text)[0]?.result?.rows_returned, 3);
    await waitFor(() => internals(pool)._freeConnections.length === internals(pool)._allConnections.length);
  });

  test('one db.connect per pooled connection, with distinct connection ids', () => {
    const connects = h.ofType('db.connect');
    assert.equal(connects.length, internals(pool)._allConnections.length);
    assert.equal(new Set(connects.map((e) => e.db?.connection_id)).size, connects.length);
    for (const e of connects) assert.equal(e.db?.system, 'mariadb');
  });

  test('mysql2/promise: query, execute, getConnection, prepare + execute, all once', async () => {
    const tq = `SELECT name FROM ${table} WHERE id = ? /* promise query */`;
    const te = `SELECT name FROM ${table} WHERE id = ? /* promise execute */`;
    const tc = `UPDATE ${table} SET name = ? WHERE id = ? /* promise conn */`;
    const tp = `SELECT name FROM ${table} WHERE id = ? /* promise prepared */`;
    await runWithContext(actor('frank'), async () => {
      const [rows] = await promisePool.query<RowDataPacket[]>(tq, [1]);
      assert.equal(rows[0]?.name, 'a');
      await promisePool.execute(te, [2]);
      const conn = await promisePool.getConnection();
      try {
        await conn.query(tc, ['p', 3]);
        const stmt = await conn.prepare(tp);
        await stmt.execute([1]);
        await stmt.execute([3]);
        await stmt.close();
      } finally {
        conn.release();
      }
    });
    assert.equal(h.queries(tq).length, 1);
    assert.equal(h.queries(te).length, 1);
    assert.equal(h.queries(tc)[0]?.result?.rows_affected, 1);
    assert.equal(h.queries(tc).length, 1);
    assert.deepEqual(
      h.queries(tp).map((e) => e.statement?.params?.values),
      [[1], [3]],
    );
    for (const e of [...h.queries(tq), ...h.queries(te), ...h.queries(tc), ...h.queries(tp)]) {
      assert.equal(e.actor?.id, 'frank');
    }
  });

  test('blocked in a pool: error via callback / promise / event; connection released and reused, never destroyed', async () => {
    const all = internals(pool)._allConnections.length;
    const before = h.ofType('db.connect').length;
    const text = `DELETE FROM ${table} /* forbidden */`;
    for (let i = 0; i < 5; i++) {
      const viaQuery = await new Promise((resolve) => pool.query(text, (err: unknown) => resolve(err)));
      assert.ok(viaQuery instanceof QueryBlockedError);
      const viaEvent = await new Promise((resolve) => pool.query(text).on('error', resolve));
      assert.ok(viaEvent instanceof QueryBlockedError);
      const viaExecute = await new Promise((resolve) => pool.execute(text, [], (err: unknown) => resolve(err)));
      assert.ok(viaExecute instanceof QueryBlockedError);
      await assert.rejects(promisePool.query(text), QueryBlockedError);
      await assert.rejects(promisePool.execute(text, []), QueryBlockedError);
      const conn = await promisePool.getConnection();
      await assert.rejects(conn.query(text), (err: unknown) => err instanceof QueryBlockedError && err.code === 'QT_ERR_POLICY_BLOCKED');
      conn.release();
    }
    await waitFor(() => internals(pool)._freeConnections.length === internals(pool)._allConnections.length);
    assert.equal(internals(pool)._allConnections.length, all);
    assert.equal(h.ofType('db.connect').length, before, 'no connection was replaced');
    assert.equal(h.ofType('db.disconnect').length, 0, 'no connection was destroyed');
    const [rows] = await promisePool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
    assert.equal(rows[0]?.n, 3, 'the DELETE never reached the server');
  });

  test('50 concurrent requests on 2 connections: every event carries its own caller', async () => {
    h.clear();
    const N = 50;
    const request = (n: number) =>
      runWithContext(actor(`user-${n}`), async () => {
        await cbQuery(pool, 'SELECT ? AS n /* cc pool.query cb */', [n]);
        await promisePool.query('SELECT ? AS n /* cc promise query */', [n]);
        await cbExecute(pool, 'SELECT ? AS n /* cc pool.execute */', [n]);
        await promisePool.execute('SELECT ? AS n /* cc promise execute */', [n]);
        const conn = await checkout(pool);
        try {
          await cbQuery(conn, 'SELECT ? AS n /* cc getConnection query */', [n]);
          await cbExecute(conn, 'SELECT ? AS n /* cc getConnection execute */', [n]);
        } finally {
          conn.release();
        }
        const pconn = await promisePool.getConnection();
        try {
          await pconn.query('SELECT ? AS n /* cc promise getConnection */', [n]);
        } finally {
          pconn.release();
        }
        assert.equal(currentContext()?.actor?.id, `user-${n}`);
      });
    await Promise.all(Array.from({ length: N }, (_, n) => request(n)));
    const events = h.queries(/\/\* cc /);
    assert.equal(events.length, N * 7);
    const perText = new Map<string, number>();
    for (const e of events) {
      const n = e.statement?.params?.values?.[0];
      assert.equal(e.actor?.id, `user-${String(n)}`, `${e.statement?.text} for ${String(n)} ran as ${e.actor?.id}`);
      perText.set(e.statement!.text!, (perText.get(e.statement!.text!) ?? 0) + 1);
    }
    for (const count of perText.values()) assert.equal(count, N);
    assert.equal(internals(pool)._allConnections.length, 2);
  });
});
