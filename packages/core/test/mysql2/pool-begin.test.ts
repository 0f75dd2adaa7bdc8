// Sync delivery through pool.execute: the pool begins the statement before checking out a connection
// (drivers/mysql2/pool-execute.ts), so no connection waits idle while the attempt record is fsync'd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mysql from 'mysql2';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import type { Auditor } from '../../src/auditor/auditor.js';
import { tempDir } from '../support/temp-dir.js';
import { validatingListener } from '../support/valid-events.js';
import { DB } from './helpers.js';

function syncAuditor(dir: string, events: QuerytrailEvent[]): Auditor {
  return createAuditor({
    service: { name: 'mysql2-pool-begin' },
    journal: { dir, mode: 'sync' },
    catalog: { mode: false },
    onEvent: validatingListener((e) => events.push(e)),
  }) as Auditor;
}

function slowDisk(auditor: Auditor, ms: number): void {
  const journal = auditor.journal as unknown as { file: { datasync(): Promise<void> } };
  const file = journal.file;
  const datasync = file.datasync.bind(file);
  file.datasync = async () => {
    await new Promise((r) => setTimeout(r, ms));
    await datasync();
  };
}

interface PoolInternals {
  _allConnections: { length: number };
  _freeConnections: { length: number };
}

test('promise pool.execute in sync mode: no connection is checked out while the attempt is being made durable', async () => {
  const dir = tempDir('qt-my-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const core = mysql.createPool({ ...DB, connectionLimit: 2 });
  const pool = auditor.instrumentMysql2(core.promise());
  const internals = core as unknown as PoolInternals;
  try {
    await pool.execute('SELECT 1 AS warm');
    await auditor.flush();
    slowDisk(auditor, 150);
    const work = Promise.all(Array.from({ length: 6 }, (_, i) => pool.execute('SELECT ? + 0 AS n', [i])));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(internals._freeConnections.length, internals._allConnections.length, 'no connection held while the attempts are synced');
    const results = await work;
    assert.deepEqual(
      results.map(([rows]) => Number((rows as { n: unknown }[])[0]!.n)),
      [0, 1, 2, 3, 4, 5],
    );
  } finally {
    await pool.end();
    await new Promise((r) => setTimeout(r, 50));
    await auditor.close();
  }
  const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text === 'SELECT ? + 0 AS n');
  const done = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT ? + 0 AS n');
  assert.equal(attempts.length, 6);
  assert.equal(done.length, 6);
  for (const a of attempts) {
    assert.equal(a.db?.connection_id, undefined);
    const d = done.find((q) => q.attempt_id === a.event_id);
    assert.ok(d, 'its db.query names the attempt');
    assert.match(d.db?.connection_id ?? '', /^\d+$/);
    assert.equal(d.result?.outcome, 'success');
  }
  assert.equal(verifyJournal(dir).ok, true);
});

test('pool.execute in sync mode: a server error is recorded once, in the caller context', async () => {
  const dir = tempDir('qt-my-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const core = mysql.createPool({ ...DB, connectionLimit: 1 });
  auditor.instrumentMysql2(core);
  const { currentContext } = await import('../../src/context/store.js');
  try {
    await new Promise((resolve, reject) => core.execute('SELECT 1', (err) => (err ? reject(err) : resolve(undefined))));
    const seen = await auditor.runWithContext({ actor: { type: 'human', id: 'cb-user' } }, () => {
      return new Promise<string | undefined>((resolve, reject) => {
        core.execute('SELECT nope FROM qt_missing_table_for_callback', (err) => {
          if (!err) reject(new Error('expected an error'));
          else resolve(currentContext()?.actor?.id);
        });
      });
    });
    assert.equal(seen, 'cb-user');
  } finally {
    await new Promise((r) => core.end(r));
    await new Promise((r) => setTimeout(r, 50));
    await auditor.close();
  }
  const failed = events.filter((e) => e.type === 'db.query' && e.statement?.text?.includes('qt_missing_table_for_callback'));
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.result?.error?.code, '1146');
  assert.equal(failed[0]!.actor?.id, 'cb-user');
});

test('pool.execute in sync mode: one values array shared by concurrent statements, and options objects, each keep their own record', async () => {
  const dir = tempDir('qt-my-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const pool = auditor.instrumentMysql2(mysql.createPool({ ...DB, connectionLimit: 3 }).promise());
  const shared = [7];
  try {
    await pool.execute('SELECT 1 AS warm');
    const results = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => pool.execute(`SELECT ? + ${i} AS n`, shared)),
      pool.execute({ sql: 'SELECT ? * 2 AS n', values: shared, rowsAsArray: true }),
      pool.execute('SELECT 4 AS n'),
    ]);
    assert.deepEqual(
      results.slice(0, 8).map(([rows]) => Number((rows as { n: unknown }[])[0]!.n)),
      [7, 8, 9, 10, 11, 12, 13, 14],
    );
    assert.deepEqual((results[8]![0] as unknown[][]).map((r) => r.map(Number)), [[14]], 'the options (rowsAsArray) reached mysql2');
    assert.equal(Number((results[9]![0] as { n: unknown }[])[0]!.n), 4);
    assert.deepEqual(shared, [7], "the application's array is not changed");
  } finally {
    await pool.end();
    await new Promise((r) => setTimeout(r, 50));
    await auditor.close();
  }
  const texts = [...Array.from({ length: 8 }, (_, i) => `SELECT ? + ${i} AS n`), 'SELECT ? * 2 AS n', 'SELECT 4 AS n'];
  for (const text of texts) {
    const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text === text);
    const done = events.filter((e) => e.type === 'db.query' && e.statement?.text === text);
    assert.equal(attempts.length, 1, text);
    assert.equal(done.length, 1, text);
    // The connection adopted the statement the pool began (no second begin on the connection).
    assert.equal(done[0]!.attempt_id, attempts[0]!.event_id, text);
    assert.match(done[0]!.db?.connection_id ?? '', /^\d+$/, text);
    assert.equal(done[0]!.result?.outcome, 'success', text);
  }
  assert.equal(verifyJournal(dir).ok, true);
});

test("pool.execute in sync mode: an application wrapper around the pooled connection's execute (rebuilding the values, sending a statement first) keeps one record per statement", async () => {
  const dir = tempDir('qt-my-pool-begin-');
  const events: QuerytrailEvent[] = [];
  const auditor = syncAuditor(dir, events);
  const core = mysql.createPool({ ...DB, connectionLimit: 2 });
  core.on('connection', (conn) => {
    // A wrapper of any call shape, as applications write them.
    type AnyExecute = (this: unknown, ...args: unknown[]) => unknown;
    const execute = conn.execute as unknown as AnyExecute;
    (conn as unknown as { execute: AnyExecute }).execute = function (this: unknown, sql: unknown, values: unknown, cb: unknown) {
      if (sql === 'SELECT ? + 0 AS wrapped') execute.call(this, 'SELECT 0 AS sent_first', [], () => {});
      return execute.call(this, sql, Array.isArray(values) ? values.map((v) => v) : values, cb);
    };
  });
  const pool = auditor.instrumentMysql2(core.promise());
  try {
    await pool.execute('SELECT 1 AS warm');
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.execute('SELECT ? + 0 AS wrapped', [i])));
    assert.deepEqual(
      results.map(([rows]) => Number((rows as { wrapped: unknown }[])[0]!.wrapped)),
      [0, 1, 2, 3],
    );
  } finally {
    await pool.end();
    await new Promise((r) => setTimeout(r, 50));
    await auditor.close();
  }
  const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text === 'SELECT ? + 0 AS wrapped');
  const done = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT ? + 0 AS wrapped');
  assert.equal(attempts.length, 4, 'one attempt per statement: the connection adopted what the pool began');
  assert.equal(done.length, 4);
  for (const d of done) {
    assert.equal(d.result?.outcome, 'success');
    assert.ok(attempts.some((a) => a.event_id === d.attempt_id));
  }
  const first = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT 0 AS sent_first');
  assert.equal(first.length, 4);
  assert.ok(first.every((e) => e.result?.outcome === 'success'));
  assert.equal(verifyJournal(dir).ok, true);
});
