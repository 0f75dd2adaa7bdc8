import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentContext, QueryBlockedError, runWithContext, type QuerytrailEvent } from '@querytrail/core';
import mysql, { type FieldPacket, type ResultSetHeader, type RowDataPacket } from 'mysql2';
import { DB, harness, tableName, waitFor } from './helpers.js';

type Rows = RowDataPacket[] | ResultSetHeader | RowDataPacket[][];
const actor = (id: string) => ({ actor: { type: 'human' as const, id } });

describe('mysql2 Connection (callback API)', () => {
  const h = harness();
  const table = tableName();
  const conn = mysql.createConnection({ ...DB, multipleStatements: true });

  function q(sql: string, values?: unknown): Promise<[Rows, FieldPacket[] | undefined]> {
    return new Promise((resolve, reject) =>
      conn.query(sql, values as never, (err: unknown, rows: Rows, fields?: FieldPacket[]) => (err ? reject(err) : resolve([rows, fields]))),
    );
  }
  function only(text: string): QuerytrailEvent {
    const found = h.queries(text);
    assert.equal(found.length, 1, `exactly one db.query for ${text}, got ${found.length}`);
    return found[0]!;
  }

  before(async () => {
    // Instrumented before the handshake: statements queued now still get the completed DbInfo.
    assert.equal(h.auditor.instrumentMysql2(conn), conn);
    assert.ok(conn instanceof mysql.Connection);
    await q(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(50))`);
    await q(`INSERT INTO ${table} VALUES (1,'a'),(2,'b'),(3,'c')`);
  });
  after(async () => {
    await q(`DROP TABLE IF EXISTS ${table}`);
    await new Promise<void>((resolve) => conn.end(() => resolve()));
    await waitFor(() => h.ofType('db.disconnect').length === 1);
  });

  test('db.connect carries the connection DbInfo: mariadb, namespace, user, server, thread id', () => {
    const [connect] = h.ofType('db.connect');
    assert.ok(connect);
    assert.deepEqual(connect.db, {
      system: 'mariadb',
      driver: 'mysql2',
      namespace: 'test',
      user: 'root',
      server: { address: '127.0.0.1', port: 3306 },
      connection_id: String(conn.threadId),
    });
    assert.equal(h.ofType('db.connect').length, 1);
    // A statement queued before the handshake finished sees the same, completed DbInfo.
    assert.equal(only(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(50))`).db, connect.db);
  });

  test('instrumenting twice changes nothing: one event per statement', async () => {
    assert.equal(h.auditor.instrumentMysql2(conn), conn);
    const text = `SELECT id FROM ${table} WHERE id = 3 /* twice */`;
    await q(text);
    assert.equal(only(text).result?.rows_returned, 1);
  });

  test('query(sql, values, cb): template text and params (not interpolated), rows, actor, caller context in callback', async () => {
    const text = `SELECT id, name FROM ${table} WHERE id >= ? AND name <> ?`;
    const ctxInCallback = await runWithContext(actor('alice'), () =>
      new Promise((resolve, reject) =>
        conn.query(text, [2, 'zz'], (err: unknown) => (err ? reject(err) : resolve(currentContext()?.actor?.id))),
      ),
    );
    assert.equal(ctxInCallback, 'alice');
    const e = only(text);
    assert.equal(e.statement?.text, text);
    assert.deepEqual(e.statement?.params, { mode: 'raw', count: 2, values: [2, 'zz'] });
    assert.equal(e.result?.outcome, 'success');
    assert.equal(e.result?.rows_returned, 2);
    assert.equal(e.actor?.id, 'alice');
    assert.equal(e.db?.system, 'mariadb');
    assert.equal(e.db?.connection_id, String(conn.threadId));
    assert.ok(typeof e.duration_us === 'number' && e.duration_us >= 0);
  });

  test('query({sql, values}) and query(sql, cb); a single scalar value is one param', async () => {
    const t1 = `SELECT name FROM ${table} WHERE id = ?`;
    await new Promise((resolve, reject) =>
      conn.query({ sql: t1, values: [1] }, (err: unknown, rows: unknown) => (err ? reject(err) : resolve(rows))),
    );
    assert.deepEqual(only(t1).statement?.params?.values, [1]);
    assert.equal(only(t1).result?.rows_returned, 1);
    const t2 = `SELECT COUNT(*) AS n FROM ${table}`;
    await new Promise((resolve, reject) => conn.query(t2, (err: unknown, rows: unknown) => (err ? reject(err) : resolve(rows))));
    assert.equal(only(t2).statement?.params, undefined);
    const t3 = `SELECT name FROM ${table} WHERE id = ? /* scalar */`;
    await q(t3, 2);
    assert.deepEqual(only(t3).statement?.params?.values, [2]);
  });

  test('INSERT / UPDATE record rows_affected', async () => {
    const text = `UPDATE ${table} SET name = ? WHERE id <= ?`;
    await q(text, ['u', 2]);
    const e = only(text);
    assert.equal(e.result?.rows_affected, 2);
    assert.equal(e.result?.rows_returned, undefined);
  });

  test("event mode: .on('result') rows are counted; 'end' completes; listeners run in the caller's context", async () => {
    const text = `SELECT id FROM ${table} ORDER BY id /* events */`;
    const seen: (string | undefined)[] = [];
    await runWithContext(actor('bob'), () =>
      new Promise<void>((resolve, reject) => {
        conn
          .query(text)
          .on('result', () => seen.push(currentContext()?.actor?.id))
          .on('error', reject)
          .on('end', () => resolve());
      }),
    );
    assert.deepEqual(seen, ['bob', 'bob', 'bob']);
    const e = only(text);
    assert.equal(e.result?.rows_returned, 3);
    assert.equal(e.actor?.id, 'bob');
  });

  test('event mode: an empty result records rows_returned 0, an error event records the errno', async () => {
    const empty = `SELECT id FROM ${table} WHERE id < 0 /* empty events */`;
    await new Promise<void>((resolve, reject) => conn.query(empty).on('error', reject).on('end', () => resolve()));
    assert.equal(only(empty).result?.rows_returned, 0);
    const bad = 'SELECT * FROM qt_my_missing_table_events';
    const err = await new Promise((resolve) => conn.query(bad).on('error', resolve));
    assert.equal((err as { errno?: number }).errno, 1146);
    await waitFor(() => h.queries(bad).length === 1);
    assert.equal(only(bad).result?.error?.code, '1146');
  });

  test('.stream(): rows counted once the stream ends', async () => {
    const text = `SELECT id FROM ${table} WHERE id > ? /* stream */`;
    const ids: number[] = [];
    for await (const row of conn.query(text, [0]).stream()) ids.push((row as { id: number }).id);
    assert.deepEqual(ids, [1, 2, 3]);
    await waitFor(() => h.queries(text).length === 1);
    const e = only(text);
    assert.equal(e.result?.rows_returned, 3);
    assert.deepEqual(e.statement?.params?.values, [0]);
  });

  test('failure: error code is the errno as a string', async () => {
    const text = 'SELECT * FROM qt_my_does_not_exist WHERE id = ?';
    await assert.rejects(q(text, [1]), { errno: 1146 });
    const e = only(text);
    assert.equal(e.result?.outcome, 'failure');
    assert.equal(e.result?.error?.code, '1146');
    assert.deepEqual(e.statement?.params?.values, [1]);
  });

  test('multi-statement text is one event with rows summed', async () => {
    const text = `SELECT 1 AS one; SELECT id FROM ${table}; UPDATE ${table} SET name = 'm' WHERE id >= 2`;
    const [rows] = await q(text);
    assert.equal((rows as unknown[]).length, 3);
    const e = only(text);
    assert.equal(e.result?.rows_returned, 4);
    assert.equal(e.result?.rows_affected, 2);
  });

  test('execute(sql, values, cb) (server-side prepared): once, template + params, caller context', async () => {
    const text = `SELECT id, name FROM ${table} WHERE id IN (?, ?)`;
    const ctx = await runWithContext(actor('carol'), () =>
      new Promise((resolve, reject) =>
        conn.execute(text, [1, 3], (err: unknown) => (err ? reject(err) : resolve(currentContext()?.actor?.id))),
      ),
    );
    assert.equal(ctx, 'carol');
    const e = only(text);
    assert.deepEqual(e.statement?.params?.values, [1, 3]);
    assert.equal(e.result?.rows_returned, 2);
    assert.equal(e.actor?.id, 'carol');
    // Second execute of the same text: the cached statement is reused, still exactly one event per call.
    await new Promise((resolve, reject) => conn.execute(text, [2, 2], (err: unknown, r: unknown) => (err ? reject(err) : resolve(r))));
    assert.equal(h.queries(text).length, 2);
  });

  test('execute in event mode and execute errors', async () => {
    const text = `SELECT id FROM ${table} WHERE id > ? /* exec events */`;
    await new Promise<void>((resolve, reject) => conn.execute(text, [1]).on('error', reject).on('end', () => resolve()));
    assert.equal(only(text).result?.rows_returned, 2);
    const bad = 'SELECT * FROM qt_my_missing_exec WHERE id = ?';
    await assert.rejects(
      new Promise((resolve, reject) => conn.execute(bad, [1], (err: unknown, r: unknown) => (err ? reject(err) : resolve(r)))),
      { errno: 1146 },
    );
    assert.equal(only(bad).result?.error?.code, '1146');
  });

  test('prepare then statement.execute: one event per execute with the text and the statement id; close works', async () => {
    const text = `SELECT name FROM ${table} WHERE id = ?`;
    const stmt = await new Promise<mysql.PrepareStatementInfo>((resolve, reject) =>
      conn.prepare(text, (err: unknown, s: mysql.PrepareStatementInfo) => (err ? reject(err) : resolve(s))),
    );
    h.clear();
    await runWithContext(actor('dave'), async () => {
      for (const id of [1, 2]) {
        await new Promise((resolve, reject) => stmt.execute([id], (err: unknown, r: unknown) => (err ? reject(err) : resolve(r))));
      }
    });
    const events = h.queries(text);
    assert.equal(events.length, 2);
    assert.deepEqual(
      events.map((e) => e.statement?.params?.values),
      [[1], [2]],
    );
    for (const e of events) {
      assert.equal(e.result?.rows_returned, 1);
      assert.equal(e.actor?.id, 'dave');
      assert.match(e.statement?.prepared_name ?? '', /^\d+$/);
    }
    stmt.close();
    await q('SELECT 1 /* after close */');
    assert.equal(h.queries('SELECT 1 /* after close */').length, 1);
  });

  test('transaction helpers are recorded as the statements they send', async () => {
    await new Promise<void>((resolve, reject) => conn.beginTransaction((err: unknown) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => conn.commit((err: unknown) => (err ? reject(err) : resolve())));
    assert.equal(h.queries('START TRANSACTION').length, 1);
    assert.equal(h.queries('COMMIT').length, 1);
  });

  test('blocked: never sent, error through callback / error event / execute / statement.execute; connection stays usable', async () => {
    h.clear();
    const blocked = `SELECT * FROM ${table} /* forbidden */`;
    const viaCb = await new Promise((resolve) => conn.query(blocked, (err: unknown) => resolve(err)));
    assert.ok(viaCb instanceof QueryBlockedError);
    const viaEvent = await new Promise((resolve) => conn.query(blocked).on('error', resolve));
    assert.ok(viaEvent instanceof QueryBlockedError);
    const viaExecute = await new Promise((resolve) => conn.execute(blocked, [], (err: unknown) => resolve(err)));
    assert.ok(viaExecute instanceof QueryBlockedError);
    const viaExecuteEvent = await new Promise((resolve) => conn.execute(blocked, []).on('error', resolve));
    assert.ok(viaExecuteEvent instanceof QueryBlockedError);
    // A side effect proves nothing was sent: the forbidden INSERT leaves the table unchanged.
    const insert = `INSERT INTO ${table} VALUES (99, 'forbidden')`;
    const viaInsert = await new Promise((resolve) => conn.query(insert, (err: unknown) => resolve(err)));
    assert.ok(viaInsert instanceof QueryBlockedError);
    const [rows] = await q(`SELECT COUNT(*) AS n FROM ${table} WHERE id = 99`);
    assert.equal((rows as RowDataPacket[])[0]?.n, 0);
    // A prepared statement whose text is refused.
    const stmt = await new Promise<mysql.PrepareStatementInfo>((resolve, reject) =>
      conn.prepare(`SELECT 'forbidden' AS x, ? AS y`, (err: unknown, s: mysql.PrepareStatementInfo) => (err ? reject(err) : resolve(s))),
    );
    const viaStmt = await new Promise((resolve) => stmt.execute([1], (err: unknown) => resolve(err)));
    assert.ok(viaStmt instanceof QueryBlockedError);
    stmt.close();
    assert.equal(h.ofType('db.query').filter((e) => /forbidden/.test(e.statement?.text ?? '')).length, 0);
    const [after] = await q('SELECT 2 AS two');
    assert.equal((after as RowDataPacket[])[0]?.two, 2);
  });
});
