// Sync delivery through pool.query: the pool begins the statement before checking out a client
// (drivers/pg/pool-query.ts), so no connection waits idle while the attempt record is fsync'd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import type { Auditor } from '../../src/auditor/auditor.js';
import { tempDir } from '../support/temp-dir.js';
import { validatingListener } from '../support/valid-events.js';
import { PG_CONFIG, settle } from './helpers.js';

function syncAuditor(dir: string, events: QuerytrailEvent[]): Auditor {
  return createAuditor({
    service: { name: 'pg-pool-begin' },
    journal: { dir, mode: 'sync' },
    catalog: { mode: false },
    onEvent: validatingListener((e) => events.push(e)),
  }) as Auditor;
}

/** Makes every fdatasync of the journal's segment take at least `ms` longer. */
function slowDisk(auditor: Auditor, ms: number): void {
  const journal = auditor.journal as unknown as { file: { datasync(): Promise<void> } };
  const file = journal.file;
  const datasync = file.datasync.bind(file);
  file.datasync = async () => {
    await new Promise((r) => setTimeout(r, ms));
    await datasync();
  };
}

type AnyQuery = (this: unknown, ...args: unknown[]) => unknown;

/** An application's own wrapper around each pooled client's query (of any call shape), installed as apps do. */
function wrapPooledQuery(pool: pg.Pool, wrap: (query: AnyQuery, self: unknown, text: unknown, values: unknown, cb: unknown) => unknown): void {
  pool.on('connect', (client) => {
    const query = client.query as unknown as AnyQuery;
    (client as unknown as { query: AnyQuery }).query = function (this: unknown, text: unknown, values: unknown, cb: unknown) {
      return wrap(query, this, text, values, cb);
    };
  });
}

test('pool.query in sync mode: no client is checked out while the attempt is being made durable', async () => {
  const dir = tempDir('qt-pg-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
  try {
    await pool.query('SELECT 1 AS warm'); // a connection: the pool now knows its database
    await auditor.flush();
    slowDisk(auditor, 150);
    const work = Promise.all(Array.from({ length: 6 }, (_, i) => pool.query('SELECT $1::int AS n', [i])));
    await new Promise((r) => setTimeout(r, 60));
    // The attempts are waiting for the (slow) disk: every client is still idle in the pool.
    assert.equal(pool.idleCount, pool.totalCount, 'no client held while the attempts are synced');
    assert.equal(pool.waitingCount, 0);
    const results = await work;
    assert.deepEqual(
      results.map((r) => r.rows[0].n),
      [0, 1, 2, 3, 4, 5],
    );
  } finally {
    await pool.end();
    await settle();
    await auditor.close();
  }
  const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text === 'SELECT $1::int AS n');
  const done = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT $1::int AS n');
  assert.equal(attempts.length, 6);
  assert.equal(done.length, 6);
  for (const a of attempts) {
    // Begun before a connection was chosen: the database, without a connection id.
    assert.equal(a.db?.connection_id, undefined);
    assert.equal(a.db?.namespace, PG_CONFIG.database);
    const d = done.find((q) => q.attempt_id === a.event_id);
    assert.ok(d, 'its db.query names the attempt');
    assert.match(d.db?.connection_id ?? '', /^\d+$/, 'the db.query names the connection that ran it');
    assert.equal(d.result?.outcome, 'success');
  }
  assert.equal(verifyJournal(dir).ok, true);
});

test('pool.query in sync mode on an ended pool: rejected, and the attempt is completed by a failure record', async () => {
  const dir = tempDir('qt-pg-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
  await pool.query('SELECT 1 AS warm');
  await pool.end();
  await assert.rejects(pool.query('SELECT 2 AS after_end'), /after calling end/);
  await new Promise((r) => setTimeout(r, 20));
  await auditor.close();
  const attempt = events.find((e) => e.type === 'db.query.attempt' && e.statement?.text === 'SELECT 2 AS after_end');
  const done = events.find((e) => e.type === 'db.query' && e.statement?.text === 'SELECT 2 AS after_end');
  assert.ok(attempt);
  assert.equal(done?.attempt_id, attempt.event_id);
  assert.equal(done?.result?.outcome, 'failure');
});

test('pool.query with a callback in sync mode keeps the caller context and reports errors', async () => {
  const dir = tempDir('qt-pg-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
  try {
    await pool.query('SELECT 1 AS warm');
    const { currentContext } = await import('../../src/context/store.js');
    const seen = await auditor.runWithContext({ actor: { type: 'human', id: 'cb-user' } }, () => {
      return new Promise<string | undefined>((resolve, reject) => {
        pool.query('SELECT nope FROM qt_missing_table_for_callback', (err: Error | undefined) => {
          if (!err) reject(new Error('expected an error'));
          else resolve(currentContext()?.actor?.id);
        });
      });
    });
    assert.equal(seen, 'cb-user');
  } finally {
    await pool.end();
    await settle();
    await auditor.close();
  }
  const failed = events.find((e) => e.type === 'db.query' && e.statement?.text?.includes('qt_missing_table_for_callback'));
  assert.equal(failed?.result?.error?.code, '42P01');
  assert.equal(failed?.actor?.id, 'cb-user');
});

test('pool.query in sync mode: one values array shared by concurrent statements, and query configs, each keep their own record', async () => {
  const dir = tempDir('qt-pg-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 3 }));
  const shared = [7];
  try {
    await pool.query('SELECT 1 AS warm');
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => pool.query(`SELECT $1::int + ${i} AS n`, shared)),
      pool.query({ text: 'SELECT $1::int * 2 AS n', values: shared, rowMode: 'array' }),
      pool.query({ text: 'SELECT 3 AS n' }),
      pool.query('SELECT 4 AS n'),
    ]);
    assert.deepEqual(
      results.slice(0, 8).map((r) => r.rows[0].n),
      [7, 8, 9, 10, 11, 12, 13, 14],
    );
    assert.deepEqual(results[8]!.rows, [[14]], 'the config (rowMode) reached pg');
    assert.equal(results[9]!.rows[0].n, 3);
    assert.equal(results[10]!.rows[0].n, 4);
    assert.deepEqual(shared, [7], "the application's array is not changed");
  } finally {
    await pool.end();
    await settle();
    await auditor.close();
  }
  const texts = [...Array.from({ length: 8 }, (_, i) => `SELECT $1::int + ${i} AS n`), 'SELECT $1::int * 2 AS n', 'SELECT 3 AS n', 'SELECT 4 AS n'];
  for (const text of texts) {
    const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text === text);
    const done = events.filter((e) => e.type === 'db.query' && e.statement?.text === text);
    assert.equal(attempts.length, 1, text);
    assert.equal(done.length, 1, text);
    // The client adopted the statement the pool began (no second begin at the client).
    assert.equal(done[0]!.attempt_id, attempts[0]!.event_id, text);
    assert.match(done[0]!.db?.connection_id ?? '', /^\d+$/, text);
    assert.equal(done[0]!.result?.outcome, 'success', text);
  }
  assert.equal(verifyJournal(dir).ok, true);
});

test("pool.query in sync mode: an application wrapper around the pooled client's query (rebuilding the values, sending a statement first) keeps one record per statement", async () => {
  const dir = tempDir('qt-pg-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
  wrapPooledQuery(pool, (query, self, text, values, cb) => {
    if (text === 'SELECT $1::int AS wrapped') void query.call(self, 'SELECT 0 AS sent_first');
    return query.call(self, text, Array.isArray(values) ? values.map((v) => v) : values, cb);
  });
  try {
    await pool.query('SELECT 1 AS warm');
    const rows = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.query('SELECT $1::int AS wrapped', [i])));
    assert.deepEqual(
      rows.map((r) => r.rows[0].wrapped),
      [0, 1, 2, 3],
    );
  } finally {
    await pool.end();
    await settle();
    await auditor.close();
  }
  const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text === 'SELECT $1::int AS wrapped');
  const done = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT $1::int AS wrapped');
  assert.equal(attempts.length, 4, 'one attempt per statement: the client adopted what the pool began');
  assert.equal(done.length, 4);
  for (const d of done) {
    assert.equal(d.result?.outcome, 'success');
    assert.ok(attempts.some((a) => a.event_id === d.attempt_id));
  }
  // The statement the wrapper sent first is recorded as itself, never under the pool's statement.
  const first = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT 0 AS sent_first');
  assert.equal(first.length, 4);
  assert.ok(first.every((e) => e.result?.outcome === 'success'));
  assert.equal(verifyJournal(dir).ok, true);
});

test('pool.query in sync mode: a wrapper that changes the values gets a record of what it sent; the config is copied at the call', async () => {
  const dir = tempDir('qt-pg-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
  // A tenant rewrite, say: the server gets 42, not what the application passed.
  wrapPooledQuery(pool, (query, self, text, values, cb) => query.call(self, text, text === 'SELECT $1::int AS tenant' ? [42] : values, cb));
  try {
    await pool.query('SELECT 1 AS warm');
    const r = await pool.query('SELECT $1::int AS tenant', [7]);
    assert.equal(r.rows[0].tenant, 42);
    const config = { text: 'SELECT 1 AS original' };
    const pending = pool.query(config);
    config.text = 'SELECT 2 AS substituted'; // while the attempt is being synced
    assert.equal((await pending).rows[0].original, 1, 'the text as called was sent');
  } finally {
    await pool.end();
    await settle();
    await auditor.close();
  }
  const tenant = events.filter((e) => e.statement?.text === 'SELECT $1::int AS tenant');
  const attempts = tenant.filter((e) => e.type === 'db.query.attempt');
  const done = tenant.filter((e) => e.type === 'db.query');
  assert.equal(attempts.length, 2, "the pool's attempt, and the client's for what it really sent");
  const real = done.find((d) => d.result?.outcome === 'success');
  const notSent = done.find((d) => d.result?.outcome === 'failure');
  assert.ok(real && notSent);
  assert.notDeepEqual(real.statement?.params, notSent.statement?.params, 'each record has the values of its own statement');
  assert.equal(notSent.result?.error?.code, 'QT_ERR_NOT_SENT_AS_RECORDED');
  assert.equal(events.filter((e) => e.statement?.text === 'SELECT 2 AS substituted').length, 0);
  const original = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT 1 AS original');
  assert.equal(original.length, 1);
  assert.equal(original[0]!.result?.outcome, 'success');
  assert.equal(verifyJournal(dir).ok, true);
});
