import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createAuditor, loadAnalyzers, QueryBlockedError, type QuerytrailEvent, runWithContext } from '@querytrail/core';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { validatingListener } from '../support/valid-events.js';

await loadAnalyzers();

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const table = `qt_bulkcur_${randomBytes(5).toString('hex')}`;
const admin = new pg.Client(PG);

before(async () => {
  await admin.connect();
  await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, ssn text)`);
  await admin.query(`INSERT INTO ${table} SELECT g, 'ssn-' || g FROM generate_series(1, 100) g`);
});
after(async () => {
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.end();
});

test('a pg cursor counts sensitive rows as they are read: the alert comes mid-read, the block stops the next statement', async () => {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'bulk-cursor' },
    journal: false,
    catalog: { mode: false },
    policy: {
      version: 1,
      sensitive: [{ id: 'pii', category: 'pii', columns: [`*.${table}.ssn`] }],
      bulk: { perStatement: { alert: 25, block: 50 }, blockSeconds: 60 },
    },
    onEvent: validatingListener((e) => events.push(e)),
  });
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 1 }));
  const actor = { type: 'human' as const, id: 'mallory' };
  try {
    await runWithContext({ actor }, async () => {
      const client = await pool.connect();
      try {
        const cursor = client.query(new Cursor(`SELECT id, ssn FROM ${table} ORDER BY id`));
        const read = (n: number) => new Promise<unknown[]>((res, rej) => cursor.read(n, (err, rows) => (err ? rej(err) : res(rows))));
        await read(20);
        assert.ok(!events.some((e) => e.type === 'policy.alert'), 'no alert before the threshold');
        await read(20); // 40 rows: past the alert threshold, while the cursor is still open
        const alert = events.find((e) => e.type === 'policy.alert' && e.alert?.kind === 'bulk_read');
        assert.ok(alert, 'bulk alert raised during the read');
        assert.equal(alert.alert?.bulk?.scope, 'statement');
        await read(20); // 60 rows: past the block threshold; these rows are already read
        await new Promise<void>((res, rej) => cursor.close((err) => (err ? rej(err) : res())));
      } finally {
        client.release();
      }
      // The actor's next statement is refused before it is sent.
      await assert.rejects(pool.query(`SELECT id FROM ${table} WHERE id = 1`), QueryBlockedError);
    });
    const done = events.find((e) => e.type === 'db.query' && e.statement?.text?.includes('ORDER BY id'));
    assert.ok((done?.result?.rows_returned ?? 0) >= 60);
    assert.equal(events.filter((e) => e.type === 'db.query.blocked').at(-1)?.policy?.rule_id, 'bulk.per_statement');
  } finally {
    await pool.end();
    await auditor.close();
  }
});
