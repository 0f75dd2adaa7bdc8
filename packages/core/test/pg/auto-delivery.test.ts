import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import pg from 'pg';
import { tempDir } from '../support/temp-dir.js';
import { validatingListener } from '../support/valid-events.js';
import { admin, PG_CONFIG, uniqueTable } from './helpers.js';

test("journal mode 'auto': evidence first for destructive, DDL and sensitive statements, async for the rest", async () => {
  const table = uniqueTable();
  await admin(`CREATE TABLE ${table} (id int PRIMARY KEY, ssn text, note text)`);
  const dir = tempDir('qt-auto-');
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'auto' },
    journal: { dir, mode: 'auto' },
    catalog: { mode: false },
    policy: { version: 1, mode: 'monitor', sensitive: [{ id: 'pii', category: 'pii', columns: [`*.${table}.ssn`] }] },
    onEvent: validatingListener((e) => events.push(e)),
  });
  await auditor.ready();
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
  try {
    await pool.query(`INSERT INTO ${table} VALUES (1, 'x', 'a')`); // ordinary write: async
    await pool.query(`SELECT note FROM ${table} WHERE id = 1`); // ordinary read: async
    await pool.query(`SELECT ssn FROM ${table} WHERE id = 1`); // sensitive read: sync
    await pool.query(`DELETE FROM ${table}`); // destructive: sync
    await pool.query(`ALTER TABLE ${table} ADD COLUMN extra text`); // DDL: sync
  } finally {
    await pool.end();
    await auditor.close();
    await admin(`DROP TABLE IF EXISTS ${table}`);
  }
  const queries = events.filter((e) => e.type === 'db.query');
  const attempts = events.filter((e) => e.type === 'db.query.attempt');
  const synced = queries.filter((q) => q.attempt_id !== undefined).map((q) => q.statement?.text?.split(' ')[0] + ' ' + (q.statement?.text?.includes('ssn') ? 'ssn' : ''));
  assert.deepEqual(synced, ['SELECT ssn', 'DELETE ', 'ALTER ']);
  assert.equal(attempts.length, 3);
  for (const q of queries.filter((x) => x.attempt_id)) assert.ok(attempts.some((a) => a.event_id === q.attempt_id));
  assert.equal(verifyJournal(dir).ok, true);
});
