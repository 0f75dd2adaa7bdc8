import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import Cursor from 'pg-cursor';
import QueryStream from 'pg-query-stream';
import { QueryBlockedError } from '@querytrail/core';
import { kStatementGate } from '../../src/auditor/auditor.js';
import type { StatementRecorder } from '../../src/capture/types.js';
import { instrumentPg } from '../../src/drivers/pg/instrument.js';
import { RECORDER_FAILURE_CODE } from '../../src/drivers/pg/warn.js';
import { admin, blockForbidden, createTable, dropTable, harness, PG_CONFIG, settle, submit, uniqueTable } from './helpers.js';

function isBlocked(err: unknown): boolean {
  return err instanceof QueryBlockedError && (err as QueryBlockedError).code === 'QT_ERR_POLICY_BLOCKED';
}

describe('blocking: a refused statement is never sent, the error takes the driver path, the connection stays usable', () => {
  const table = uniqueTable();
  const h = harness();
  blockForbidden(h.auditor);
  let client: pg.Client;
  let pool: pg.Pool;
  const forbiddenInsert = () => `INSERT INTO ${table} (id, v) VALUES (999, 'forbidden')`;
  const count999 = async () => Number((await admin<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE id = 999`))[0]?.n);

  before(async () => {
    await createTable(table);
    client = h.auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await client.connect();
    pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
  });
  after(async () => {
    await client.end();
    await pool.end();
    await dropTable(table);
  });

  test('client.query promise rejects; callback gets the error asynchronously', async () => {
    h.clear();
    await assert.rejects(client.query(forbiddenInsert()), isBlocked);
    let sync = true;
    const err = await new Promise<unknown>((resolve) => {
      client.query(forbiddenInsert(), (e: Error) => resolve(e));
      sync = false;
    });
    assert.equal(sync, false);
    assert.ok(isBlocked(err));
    await assert.rejects(client.query({ text: forbiddenInsert(), values: [] }), isBlocked);
    assert.equal(await count999(), 0);
    assert.equal(h.queries().length, 0, 'nothing sent, nothing recorded as executed');
    assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
  });

  test('inside a transaction the block does not abort it (nothing reached the server)', async () => {
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${table} (id, v) VALUES (500, 'ok')`);
    await assert.rejects(client.query(forbiddenInsert()), isBlocked);
    await client.query('COMMIT');
    assert.equal((await admin(`SELECT id FROM ${table} WHERE id = 500`)).length, 1);
  });

  test('pool.query (promise and callback): no leaked or destroyed client, next query works', async () => {
    await pool.query('SELECT 1'); // one client exists and is idle
    const before = { total: pool.totalCount, idle: pool.idleCount };
    const pidBefore = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await assert.rejects(pool.query(forbiddenInsert()), isBlocked);
    const err = await new Promise<unknown>((resolve) => pool.query(forbiddenInsert(), (e) => resolve(e)));
    assert.ok(isBlocked(err));
    await settle();
    assert.deepEqual({ total: pool.totalCount, idle: pool.idleCount }, before);
    assert.equal(pool.waitingCount, 0);
    assert.equal((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pidBefore, 'same connection kept');
    assert.equal(await count999(), 0);
  });

  test('pool.connect + client.query: release(err) with the block error keeps the client', async () => {
    const total = pool.totalCount;
    const c = await pool.connect();
    let caught: unknown;
    try {
      await c.query(forbiddenInsert());
    } catch (e) {
      caught = e;
    } finally {
      c.release(caught as Error);
    }
    assert.ok(isBlocked(caught));
    await settle();
    assert.equal(pool.totalCount, total);
    assert.equal(pool.idleCount, total);
    assert.equal(pool.waitingCount, 0);
    // a real error still destroys the client, as pg-pool intends
    const c2 = await pool.connect();
    c2.release(new Error('broken'));
    await settle();
    assert.equal(pool.totalCount, total - 1);
    assert.equal((await pool.query('SELECT 1 AS ok')).rows[0].ok, 1);
  });

  test('many concurrent blocked pool.query calls on max 2: pool returns to normal', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? pool.query(forbiddenInsert()) : pool.query('SELECT 1'))),
    );
    assert.equal(results.filter((r) => r.status === 'rejected' && isBlocked(r.reason)).length, 10);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
    await settle();
    assert.ok(pool.totalCount <= 2);
    assert.equal(pool.idleCount, pool.totalCount);
    assert.equal(pool.waitingCount, 0);
  });

  test('cursor: read rejects through the cursor; stream: error event; pg.Query: callback', async () => {
    const cursor = client.query(new Cursor(`SELECT * FROM ${table} /* forbidden */`));
    await assert.rejects(cursor.read(10), isBlocked);

    const stream = client.query(new QueryStream(`SELECT * FROM ${table} /* forbidden */`));
    const streamErr = await new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.resume();
    });
    assert.ok(isBlocked(streamErr));

    const qErr = await new Promise<unknown>((resolve) => {
      submit(client, new pg.Query(`SELECT 1 /* forbidden */`), (e: Error) => resolve(e));
    });
    assert.ok(isBlocked(qErr));
    assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
  });

  test('named statement: the text known from the first call is what the gate sees later', async () => {
    const name = `qt_named_${table}`;
    await client.query({ name, text: `SELECT $1::text AS forbidden_col`, values: ['a'] }).catch(() => undefined);
    h.auditor[kStatementGate] = (start) => {
      if (start.preparedName === name && /forbidden/.test(start.text ?? '')) throw new QueryBlockedError('named');
    };
    try {
      await assert.rejects(client.query({ name, values: ['b'] } as pg.QueryConfig), isBlocked);
    } finally {
      blockForbidden(h.auditor);
    }
  });
});

describe('fail-open for our own bugs (never for a block)', () => {
  test('a recorder that throws a plain Error: warning, statement still sent', async () => {
    const h = harness();
    h.auditor[kStatementGate] = () => {
      throw new Error('qt-bug-begin');
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const client = h.auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await client.connect();
    try {
      assert.equal((await client.query('SELECT 41 + 1 AS x')).rows[0].x, 42);
      const r = await new Promise<pg.QueryResult>((resolve, reject) =>
        client.query('SELECT 1 AS x', (e: Error | null, res: pg.QueryResult) => (e ? reject(e) : resolve(res))),
      );
      assert.equal(r.rows[0].x, 1);
      const cursor = client.query(new Cursor('SELECT generate_series(1, 3)'));
      assert.equal((await cursor.read(10)).length, 3);
      await cursor.close();
      await settle();
      const w = warnings.filter((x) => (x as Error & { code?: string }).code === RECORDER_FAILURE_CODE);
      assert.ok(w.some((x) => x.message.includes('qt-bug-begin')), 'warning emitted');
    } finally {
      process.off('warning', onWarning);
      await client.end();
    }
  });

  test('a handle whose succeed/fail/addRows throw never breaks the query', async () => {
    const recorder: StatementRecorder = {
      begin: () => ({
        ready: undefined,
        addRows: () => {
          throw new Error('qt-bug-rows');
        },
        succeed: () => {
          throw new Error('qt-bug-succeed');
        },
        fail: () => {
          throw new Error('qt-bug-fail');
        },
      }),
      connection: () => {
        throw new Error('qt-bug-connection');
      },
    };
    const client = instrumentPg(recorder, new pg.Client(PG_CONFIG));
    await client.connect();
    try {
      assert.equal((await client.query('SELECT 1 AS x')).rows[0].x, 1);
      await assert.rejects(client.query('SELEC'), { code: '42601' });
      const cursor = client.query(new Cursor('SELECT generate_series(1, 3)'));
      assert.equal((await cursor.read(10)).length, 3);
      await cursor.close();
    } finally {
      await client.end();
    }
  });
});
