import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currentContext, runWithContext } from '@querytrail/core';
import mysql, { type PoolConnection, type RowDataPacket } from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { DB, harness, waitFor } from './helpers.js';

describe('PoolCluster and standalone mysql2/promise connections', () => {
  const h = harness();

  test('PoolCluster: nodes added before and after instrumentation; of().query and getConnection recorded once', async () => {
    const cluster = mysql.createPoolCluster();
    cluster.add('A', { ...DB, connectionLimit: 1 });
    assert.equal(h.auditor.instrumentMysql2(cluster), cluster);
    cluster.add('B', { ...DB, connectionLimit: 1 });
    try {
      await runWithContext({ actor: { type: 'service', id: 'svc' } }, async () => {
        for (const pattern of ['A', 'B']) {
          const text = `SELECT ? AS node /* cluster ${pattern} */`;
          const rows = await new Promise<RowDataPacket[]>((resolve, reject) =>
            cluster.of(pattern).query(text, [pattern], (err: unknown, r: RowDataPacket[]) => (err ? reject(err) : resolve(r))),
          );
          assert.equal(rows[0]?.node, pattern);
          const conn = await new Promise<PoolConnection>((resolve, reject) =>
            cluster.getConnection(pattern, (err: unknown, c: PoolConnection) => (err ? reject(err) : resolve(c))),
          );
          assert.equal(currentContext()?.actor?.id, 'svc');
          await new Promise((resolve, reject) => conn.query(`${text} /* conn */`, [pattern], (err: unknown, r: unknown) => (err ? reject(err) : resolve(r))));
          conn.release();
          assert.equal(h.queries(text).length, 1);
          assert.equal(h.queries(`${text} /* conn */`).length, 1);
          assert.equal(h.queries(text)[0]?.actor?.id, 'svc');
        }
      });
      assert.equal(h.ofType('db.connect').length, 2);
    } finally {
      await new Promise<void>((resolve) => cluster.end(() => resolve()));
    }
    await waitFor(() => h.ofType('db.disconnect').length === 2);
  });

  test('mysql2/promise createConnection: query, execute, prepare; end records db.disconnect', async () => {
    h.clear();
    const conn = await mysqlPromise.createConnection(DB);
    assert.equal(h.auditor.instrumentMysql2(conn), conn);
    assert.ok(conn instanceof mysqlPromise.Connection);
    // Instrumented after the handshake: db.connect at once, with the server's thread id.
    assert.equal(h.ofType('db.connect')[0]?.db?.connection_id, String(conn.threadId));
    await runWithContext({ actor: { type: 'human', id: 'gina' } }, async () => {
      await conn.query('SELECT ? AS v /* pc query */', ['x']);
      await conn.query({ sql: 'SELECT ? AS v /* pc query opts */', values: ['y'] });
      await conn.execute('SELECT ? AS v /* pc execute */', [1]);
      const stmt = await conn.prepare('SELECT ? AS v /* pc prepare */');
      await stmt.execute([2]);
      await stmt.close();
      await assert.rejects(conn.query('SELECT * FROM qt_my_missing_pc'), { errno: 1146 });
    });
    for (const t of ['pc query', 'pc query opts', 'pc execute', 'pc prepare']) {
      const events = h.queries(new RegExp(`/\\* ${t} \\*/`));
      assert.equal(events.length, 1, t);
      assert.equal(events[0]?.actor?.id, 'gina');
      assert.equal(events[0]?.db?.system, 'mariadb');
    }
    assert.deepEqual(h.queries('SELECT ? AS v /* pc query */')[0]?.statement?.params?.values, ['x']);
    assert.equal(h.queries('SELECT * FROM qt_my_missing_pc')[0]?.result?.error?.code, '1146');
    await conn.end();
    await waitFor(() => h.ofType('db.disconnect').length === 1);
    assert.equal(h.ofType('db.disconnect')[0]?.db?.connection_id, String(conn.threadId));
    assert.equal(h.ofType('db.connect').length, 1);
  });

  test('destroy() also records db.disconnect', async () => {
    h.clear();
    const conn = h.auditor.instrumentMysql2(mysql.createConnection(DB));
    await new Promise((resolve, reject) => conn.query('SELECT 1', (err: unknown, r: unknown) => (err ? reject(err) : resolve(r))));
    conn.destroy();
    await waitFor(() => h.ofType('db.disconnect').length === 1);
    assert.equal(h.ofType('db.connect').length, 1);
  });

  test('anything else is refused with a QuerytrailError', () => {
    assert.throws(() => h.auditor.instrumentMysql2({}), { code: 'QT_ERR_INVALID_ARGUMENT' });
  });
});
