import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueryBlockedError, runWithContext } from '@querytrail/core';
import mariadb from 'mariadb';
import { admin, DB, harness, tableName } from './helpers.js';

const actor = (id: string) => ({ actor: { type: 'human' as const, id } });

describe('mariadb pool (promise API)', () => {
  const h = harness();
  const table = tableName();
  // One connection: checkouts queue, so a statement may be handed its connection by another caller's release.
  const pool = mariadb.createPool({ ...DB, connectionLimit: 1 });

  before(async () => {
    await admin(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(50))`);
    await admin(`INSERT INTO ${table} VALUES (1,'a'),(2,'b'),(3,'c')`);
    assert.equal(h.auditor.instrumentMariadb(pool), pool);
  });
  after(async () => {
    await pool.end();
    await admin(`DROP TABLE IF EXISTS ${table}`);
  });

  test('pool.query / execute / batch: once each, on the pooled connection', async () => {
    const q = `SELECT id FROM ${table} WHERE id < ? /* pq */`;
    const x = `SELECT id FROM ${table} WHERE id < ? /* px */`;
    const b = `UPDATE ${table} SET name = ? WHERE id = ?`;
    await pool.query(q, [3]);
    await pool.execute(x, [2]);
    await pool.batch(b, [
      ['p', 1],
      ['q', 2],
    ]);
    assert.equal(h.queries(q).length, 1);
    assert.equal(h.queries(q)[0]!.result?.rows_returned, 2);
    assert.equal(h.queries(x).length, 1);
    assert.equal(h.queries(x)[0]!.result?.rows_returned, 1);
    assert.equal(h.queries(b).length, 1);
    assert.equal(h.queries(b)[0]!.result?.rows_affected, 2);
    assert.equal(h.queries(q)[0]!.db?.driver, 'mariadb');
    assert.match(h.queries(q)[0]!.db?.connection_id ?? '', /^\d+$/);
  });

  test('queued checkouts keep each caller context (pool.query, execute, getConnection)', async () => {
    h.clear();
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    await Promise.all(
      ids.map((id, i) =>
        runWithContext(actor(id), async () => {
          if (i % 3 === 0) await pool.query(`SELECT ? AS who, SLEEP(0.01) /* q */`, [id]);
          else if (i % 3 === 1) await pool.execute(`SELECT ? AS who /* x */`, [id]);
          else {
            const c = await pool.getConnection();
            try {
              await c.query(`SELECT ? AS who /* c */`, [id]);
            } finally {
              await c.release();
            }
          }
        }),
      ),
    );
    const events = h.queries(/AS who/);
    assert.equal(events.length, ids.length);
    for (const e of events) assert.equal(e.actor?.id, e.statement?.params?.values?.[0], e.statement?.text);
  });

  test('getConnection: transaction statements once each; queryStream works on the pooled wrapper', async () => {
    h.clear();
    const c = await pool.getConnection();
    try {
      await c.beginTransaction();
      await c.query(`UPDATE ${table} SET name = 'g' WHERE id = 3`);
      await c.commit();
      let n = 0;
      for await (const _ of c.queryStream(`SELECT id FROM ${table} /* pstream */`)) n++;
      assert.equal(n, 3);
    } finally {
      await c.release();
    }
    assert.equal(h.queries('START TRANSACTION').length, 1);
    assert.equal(h.queries('COMMIT').length, 1);
    assert.equal(h.queries(`SELECT id FROM ${table} /* pstream */`)[0]?.result?.rows_returned, 3);
  });

  test('blocked pool statements reject with QueryBlockedError and release the connection (limit 1: the next still runs)', async () => {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(pool.query(`DELETE FROM ${table} /* forbidden */`), QueryBlockedError);
      await assert.rejects(pool.execute(`SELECT 1 /* forbidden */`), QueryBlockedError);
      await assert.rejects(pool.batch(`INSERT INTO ${table} VALUES (?, ?) /* forbidden */`, [[9, 'z']]), QueryBlockedError);
    }
    const rows = await pool.query(`SELECT COUNT(*) AS n FROM ${table}`);
    assert.equal(Number(rows[0].n), 3, 'nothing blocked reached the server');
    assert.equal(pool.activeConnections(), 0);
  });
});
