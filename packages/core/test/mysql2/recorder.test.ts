import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { JournalUnavailableError, type StatementHandle, type StatementRecorder, type StatementStart } from '@querytrail/core';
import mysql, { type RowDataPacket } from 'mysql2';
import { instrumentMysql2 } from '../../src/drivers/mysql2/instrument.js';
import { DB, waitFor } from './helpers.js';

interface Fake {
  recorder: StatementRecorder;
  log: string[];
  starts: StatementStart[];
}

/** A hand-written recorder to drive the failure and sync-delivery paths directly. */
function fake(opts: { beginThrows?: Error; settleThrows?: Error; ready?: (log: string[]) => Promise<void> }): Fake {
  const log: string[] = [];
  const starts: StatementStart[] = [];
  const recorder: StatementRecorder = {
    begin(start) {
      if (opts.beginThrows) throw opts.beginThrows;
      starts.push(start);
      log.push('begin');
      const handle: StatementHandle = {
        ready: opts.ready?.(log),
        addRows() {},
        succeed() {
          log.push('succeed');
          if (opts.settleThrows) throw opts.settleThrows;
        },
        fail() {
          log.push('fail');
          if (opts.settleThrows) throw opts.settleThrows;
        },
      };
      return handle;
    },
    connection(type) {
      log.push(type);
      if (opts.settleThrows) throw opts.settleThrows;
    },
  };
  return { recorder, log, starts };
}

function collectWarnings(): { codes: string[]; stop(): void } {
  const codes: string[] = [];
  const listener = (w: Error & { code?: string }) => codes.push(w.code ?? w.name);
  process.on('warning', listener);
  return { codes, stop: () => process.off('warning', listener) };
}

const query = (c: mysql.Connection | mysql.Pool, sql: string, values?: unknown) =>
  new Promise<RowDataPacket[]>((resolve, reject) =>
    c.query(sql, values as never, (err: unknown, rows: RowDataPacket[]) => (err ? reject(err) : resolve(rows))),
  );

describe('recorder failures never break the query', () => {
  const opened: (mysql.Connection | mysql.Pool)[] = [];
  after(async () => {
    for (const c of opened) await new Promise<void>((resolve) => c.end(() => resolve()));
  });

  test('begin() throwing a plain Error: the statement is still sent, a warning is emitted', async () => {
    const f = fake({ beginThrows: new Error('recorder exploded') });
    const conn = instrumentMysql2(f.recorder, mysql.createConnection(DB));
    opened.push(conn);
    const w = collectWarnings();
    try {
      const rows = await query(conn, 'SELECT ? AS v', [7]);
      assert.equal(rows[0]?.v, 7);
      const executed = await new Promise<RowDataPacket[]>((resolve, reject) =>
        conn.execute('SELECT ? AS v', [8], (err: unknown, r: RowDataPacket[]) => (err ? reject(err) : resolve(r))),
      );
      assert.equal(executed[0]?.v, 8);
      // One warning per distinct failure (the trail, through recordingFailed, gets every one).
      await waitFor(() => w.codes.includes('QUERYTRAIL_RECORDER_FAILURE'));
    } finally {
      w.stop();
    }
  });

  test('succeed()/fail()/connection() throwing: the callback still gets its result', async () => {
    const f = fake({ settleThrows: new Error('settle exploded') });
    const conn = instrumentMysql2(f.recorder, mysql.createConnection(DB));
    opened.push(conn);
    const w = collectWarnings();
    try {
      await new Promise((resolve) => conn.connect(resolve));
      const rows = await query(conn, 'SELECT 1 AS one');
      assert.equal(rows[0]?.one, 1);
      await assert.rejects(query(conn, 'SELECT * FROM qt_my_nope'), { errno: 1146 });
      assert.deepEqual(f.log, ['db.connect', 'begin', 'succeed', 'begin', 'fail']);
      await waitFor(() => w.codes.includes('QUERYTRAIL_RECORDER_FAILURE'));
    } finally {
      w.stop();
    }
  });
});

describe('handle.ready (sync delivery): sending waits for it', () => {
  const opened: (mysql.Connection | mysql.Pool)[] = [];
  after(async () => {
    for (const c of opened) await new Promise<void>((resolve) => c.end(() => resolve()));
  });
  const later = (log: string[]) =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        log.push('ready');
        resolve();
      }, 20),
    );

  test('query and execute (callback and event mode) are sent only after ready settles', async () => {
    const f = fake({ ready: later });
    const conn = instrumentMysql2(f.recorder, mysql.createConnection(DB));
    opened.push(conn);
    await new Promise((resolve) => conn.connect(resolve));
    const rows = await query(conn, 'SELECT ? AS v', [1]);
    assert.equal(rows[0]?.v, 1);
    const viaExecute = await new Promise<unknown[]>((resolve, reject) => {
      const got: unknown[] = [];
      conn
        .execute('SELECT ? AS v UNION SELECT ?', [2, 3])
        .on('result', (r: unknown) => got.push((r as { v: number }).v))
        .on('error', reject)
        .on('end', () => resolve(got));
    });
    assert.deepEqual(viaExecute, [2, 3]);
    assert.deepEqual(f.log, ['db.connect', 'begin', 'ready', 'succeed', 'begin', 'ready', 'succeed']);
  });

  test('a rejected ready is the statement error; the pooled connection is released and reused', async () => {
    const f = fake({ ready: () => Promise.reject(new JournalUnavailableError('disk full')) });
    const pool = instrumentMysql2(f.recorder, mysql.createPool({ ...DB, connectionLimit: 1 }));
    opened.push(pool);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(query(pool, 'SELECT 1'), JournalUnavailableError);
      await assert.rejects(pool.promise().execute('SELECT 1', []), JournalUnavailableError);
    }
    const internals = pool as unknown as { _allConnections: { length: number }; _freeConnections: { length: number } };
    await waitFor(() => internals._freeConnections.length === 1);
    assert.equal(internals._allConnections.length, 1);
    assert.equal(f.log.filter((l) => l === 'db.connect').length, 1);
  });
});
