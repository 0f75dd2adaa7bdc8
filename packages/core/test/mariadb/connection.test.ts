import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentContext, QueryBlockedError, runWithContext, type QuerytrailEvent } from '@querytrail/core';
import mariadb, { type Connection } from 'mariadb';
import { admin, DB, harness, tableName, waitFor } from './helpers.js';

const actor = (id: string) => ({ actor: { type: 'human' as const, id } });

describe('mariadb connection (promise API)', () => {
  const h = harness();
  const table = tableName();
  let conn: Connection;

  function only(text: string): QuerytrailEvent {
    const found = h.queries(text);
    assert.equal(found.length, 1, `exactly one db.query for ${text}, got ${found.length}`);
    return found[0]!;
  }

  before(async () => {
    await admin(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(50))`);
    await admin(`INSERT INTO ${table} VALUES (1,'a'),(2,'b'),(3,'c')`);
    conn = await mariadb.createConnection({ ...DB, multipleStatements: true });
    assert.equal(h.auditor.instrumentMariadb(conn), conn);
  });
  after(async () => {
    await conn.end();
    await waitFor(() => h.ofType('db.disconnect').length === 1);
    await admin(`DROP TABLE IF EXISTS ${table}`);
  });

  test('db.connect carries the DbInfo: mariadb, namespace, user, server, thread id', () => {
    const connects = h.ofType('db.connect');
    assert.equal(connects.length, 1);
    assert.deepEqual(connects[0]!.db, {
      system: 'mariadb',
      driver: 'mariadb',
      namespace: 'test',
      user: 'root',
      server: { address: '127.0.0.1', port: 3306 },
      connection_id: String(conn.threadId),
    });
  });

  test('instrumenting twice changes nothing; query(sql, values): template text, params, rows, caller actor', async () => {
    assert.equal(h.auditor.instrumentMariadb(conn), conn);
    const text = `SELECT id, name FROM ${table} WHERE id >= ? AND name <> ?`;
    const rows = await runWithContext(actor('alice'), () => conn.query(text, [2, 'zz']));
    assert.equal(rows.length, 2);
    const e = only(text);
    assert.deepEqual(e.statement?.params, { mode: 'raw', count: 2, values: [2, 'zz'] });
    assert.equal(e.result?.outcome, 'success');
    assert.equal(e.result?.rows_returned, 2);
    assert.equal(e.actor?.id, 'alice');
    assert.equal(e.db?.connection_id, String(conn.threadId));
  });

  test('query({sql}) and rowsAsArray; DML records rows_affected', async () => {
    const t1 = `SELECT name FROM ${table} WHERE id = ? /* obj */`;
    await conn.query({ sql: t1, rowsAsArray: true }, [1]);
    assert.equal(only(t1).result?.rows_returned, 1);
    const t2 = `UPDATE ${table} SET name = ? WHERE id <= ?`;
    await conn.query(t2, ['u', 2]);
    assert.equal(only(t2).result?.rows_affected, 2);
    assert.equal(only(t2).result?.rows_returned, undefined);
  });

  test('execute (binary protocol): once per call, cached statement included, caller actor', async () => {
    const text = `SELECT id FROM ${table} WHERE id IN (?, ?)`;
    await runWithContext(actor('carol'), async () => {
      await conn.execute(text, [1, 3]);
      await conn.execute(text, [2, 2]);
    });
    const events = h.queries(text);
    assert.equal(events.length, 2);
    assert.deepEqual(
      events.map((e) => [e.result?.rows_returned, e.actor?.id]),
      [
        [2, 'carol'],
        [1, 'carol'],
      ],
    );
  });

  test('batch: one event for the whole batch, rows_affected summed', async () => {
    const text = `INSERT INTO ${table} VALUES (?, ?)`;
    await conn.batch(text, [
      [10, 'x'],
      [11, 'y'],
      [12, 'z'],
    ]);
    const e = only(text);
    assert.equal(e.result?.rows_affected, 3);
    assert.equal(e.statement?.params?.count, 3);
    await conn.query(`DELETE FROM ${table} WHERE id >= 10`);
  });

  test('prepare then statement.execute: one event per execute with prepared_name; close works', async () => {
    const text = `SELECT name FROM ${table} WHERE id = ?`;
    const stmt = await conn.prepare(text);
    h.clear();
    await runWithContext(actor('dave'), async () => {
      await stmt.execute([1]);
      await stmt.execute([3]);
    });
    const events = h.queries(text);
    assert.deepEqual(
      events.map((e) => [e.statement?.params?.values, e.result?.rows_returned, e.actor?.id]),
      [
        [[1], 1, 'dave'],
        [[3], 1, 'dave'],
      ],
    );
    assert.match(events[0]!.statement?.prepared_name ?? '', /^\d+$/);
    stmt.close();
  });

  test('queryStream: rows counted, one event when the stream ends', async () => {
    const text = `SELECT id FROM ${table} WHERE id > ? ORDER BY id /* stream */`;
    const ids: number[] = [];
    for await (const row of conn.queryStream(text, [0])) ids.push((row as { id: number }).id);
    assert.deepEqual(ids, [1, 2, 3]);
    await waitFor(() => h.queries(text).length === 1);
    assert.equal(only(text).result?.rows_returned, 3);
  });

  test('transactions: START TRANSACTION, COMMIT and ROLLBACK are the statements sent, once each', async () => {
    h.clear();
    await conn.beginTransaction();
    await conn.query(`UPDATE ${table} SET name = 'tx' WHERE id = 1`);
    await conn.commit();
    await conn.beginTransaction();
    await conn.rollback();
    // Nothing open: the driver sends no ROLLBACK, and nothing is recorded.
    await conn.rollback();
    assert.equal(h.queries('START TRANSACTION').length, 2);
    assert.equal(h.queries('COMMIT').length, 1);
    assert.equal(h.queries('ROLLBACK').length, 1);
  });

  test('failure: errno as the error code', async () => {
    const text = 'SELECT * FROM qt_mdb_does_not_exist WHERE id = ?';
    await assert.rejects(conn.query(text, [1]), { errno: 1146 });
    assert.equal(only(text).result?.error?.code, '1146');
    await assert.rejects(conn.execute(`${text} /* exec */`, [1]), { errno: 1146 });
    assert.equal(h.queries(`${text} /* exec */`).length, 1);
  });

  test('multi-statement text is one event with rows summed', async () => {
    const text = `SELECT 1 AS one; SELECT id FROM ${table}; UPDATE ${table} SET name = 'm' WHERE id >= 2`;
    await conn.query(text);
    const e = only(text);
    assert.equal(e.result?.rows_returned, 4);
    assert.equal(e.result?.rows_affected, 2);
  });

  test('blocked: never sent, rejected through the driver (query, execute, batch, prepared, stream); connection usable', async () => {
    h.clear();
    const blocked = `SELECT * FROM ${table} WHERE id = ? /* forbidden */`;
    await assert.rejects(conn.query(blocked, [1]), QueryBlockedError);
    await assert.rejects(conn.execute(blocked, [1]), QueryBlockedError);
    await assert.rejects(conn.batch(`INSERT INTO ${table} VALUES (?, ?) /* forbidden */`, [[20, 'q']]), QueryBlockedError);
    const stmt = await conn.prepare(blocked);
    await assert.rejects(stmt.execute([1]) as Promise<unknown>, QueryBlockedError);
    stmt.close();
    const err = await new Promise((resolve) => {
      const s = conn.queryStream(blocked, [1]);
      s.on('error', resolve);
      s.resume();
    });
    assert.ok(err instanceof QueryBlockedError);
    assert.equal(h.ofType('db.query.blocked').length, 5);
    assert.equal(h.ofType('db.query').filter((e) => /forbidden/.test(e.statement?.text ?? '')).length, 0);
    const [row] = await conn.query(`SELECT COUNT(*) AS n FROM ${table} WHERE id = 20`);
    assert.equal(Number(row.n), 0, 'the blocked batch never reached the server');
  });

  test('context under concurrency: each statement carries its caller, continuation keeps its own context', async () => {
    h.clear();
    const seen = await Promise.all(
      ['u1', 'u2', 'u3', 'u4'].map((id) =>
        runWithContext(actor(id), async () => {
          await conn.query(`SELECT ? AS who /* ctx */`, [id]);
          return currentContext()?.actor?.id;
        }),
      ),
    );
    assert.deepEqual(seen, ['u1', 'u2', 'u3', 'u4']);
    const events = h.queries(/\/\* ctx \*\//);
    assert.equal(events.length, 4);
    for (const e of events) assert.equal(e.actor?.id, e.statement?.params?.values?.[0]);
  });
});
