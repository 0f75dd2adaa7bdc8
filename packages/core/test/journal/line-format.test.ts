// The journal builds statement lines from cached pieces (capture/statement-line.ts) instead of
// JSON.stringify over each event. These tests hold it to the same text: every statement line must be
// byte for byte JSON.stringify of the event listeners received (integrity included), valid against
// docs/event.schema.json, and chained so that `verify` accepts it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import { loadAnalyzers } from '../../src/analysis/index.js';
import { assertValidEvent } from '../support/event-schema.js';
import { tempDir } from '../support/temp-dir.js';

await loadAnalyzers();

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' } as const;
const table = `qt_line_${randomBytes(5).toString('hex')}`;

function lines(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.jsonl') || f.includes('.checkpoints.')) continue;
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line) out.push(line);
  }
  return out;
}

/** Every statement line equals JSON.stringify of the event its listener got; all lines are valid. */
function assertSameText(dir: string, events: QuerytrailEvent[]): number {
  const byId = new Map(events.map((e) => [e.event_id, e]));
  let compared = 0;
  for (const line of lines(dir)) {
    const rec = JSON.parse(line) as QuerytrailEvent;
    assertValidEvent(rec);
    if (rec.type !== 'db.query' && rec.type !== 'db.query.attempt') continue;
    const event = byId.get(rec.event_id);
    assert.ok(event, `the listener got ${rec.event_id}`);
    assert.equal(line, JSON.stringify(event), `${rec.type} ${rec.event_id}: line text`);
    compared++;
  }
  assert.equal(verifyJournal(dir).ok, true);
  return compared;
}

/** Every kind of character JSON escapes or encodes in several bytes (sent as a value: no NUL, which PostgreSQL refuses). */
const awkward = 'quote " backslash \\ newline \n tab \t bell \u0007 é ☃ 𝄞 lone \ud800 end';

before(async () => {
  const c = new pg.Client(PG);
  await c.connect();
  await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  await c.query(`INSERT INTO ${table} VALUES (1, 'a'), (2, 'b')`);
  await c.end();
  const m = await mysql.createConnection(MY);
  await m.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  await m.query(`INSERT INTO ${table} VALUES (1, 'a'), (2, 'b')`);
  await m.end();
});

after(async () => {
  const c = new pg.Client(PG);
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${table}`);
  await c.end();
  const m = await mysql.createConnection(MY);
  await m.query(`DROP TABLE IF EXISTS ${table}`);
  await m.end();
});

for (const mode of ['async', 'sync'] as const) {
  for (const params of ['hashed', 'raw'] as const) {
    test(`pg, ${mode} journal, ${params} params: statement lines are the JSON of the events`, async () => {
      const dir = tempDir('qt-line-');
      const events: QuerytrailEvent[] = [];
      const auditor = createAuditor({
        service: { name: 'line-format', version: '1.2.3', env: 'test' },
        journal: { dir, mode },
        params: { mode: params },
        catalog: { mode: false },
        onEvent: (e) => events.push(e),
      });
      const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 2 }));
      const frozenActor = { type: 'human' as const, id: 'u42', name: awkward, roles: ['support', 'é'] };
      await auditor.runWithContext({ actor: frozenActor, request: { id: 'r1', route: '/a/:id' }, orm: { name: 'knex', model: 'Item' } }, async () => {
        for (let i = 0; i < 3; i++) await pool.query(`SELECT id, v FROM ${table} WHERE id = $1`, [1]);
        await pool.query(`SELECT v FROM ${table} WHERE v = $1 OR v = $2 OR v IS NULL`, [awkward, null]);
        await pool.query(`UPDATE ${table} SET v = $1 WHERE id = $2`, ['x', 2]);
        await pool.query(`SELECT '${awkward.replaceAll("'", "''")}' AS t /* \u0001 control character in a comment */`);
        await assert.rejects(pool.query(`SELECT * FROM ${table}_missing WHERE id = $1`, [1]));
      });
      await pool.query(`SELECT 1 AS one`); // no context at all
      await pool.end();
      await auditor.close();
      const compared = assertSameText(dir, events);
      assert.ok(compared >= (mode === 'sync' ? 16 : 8), `compared ${compared} lines`);
      const failed = events.find((e) => e.type === 'db.query' && e.result?.outcome === 'failure');
      assert.equal(failed?.result?.error?.code, '42P01');
    });
  }
}

test('mysql2, async and sync journals: statement lines are the JSON of the events', async () => {
  for (const mode of ['async', 'sync'] as const) {
    const dir = tempDir('qt-line-my-');
    const events: QuerytrailEvent[] = [];
    const auditor = createAuditor({ service: { name: 'line-format' }, journal: { dir, mode }, catalog: { mode: false }, onEvent: (e) => events.push(e) });
    const pool = auditor.instrumentMysql2(mysql.createPool({ ...MY, connectionLimit: 2 }));
    await auditor.runWithContext({ actor: { type: 'bot', id: 'b1', name: awkward } }, async () => {
      for (let i = 0; i < 3; i++) await pool.execute(`SELECT id, v FROM ${table} WHERE id = ?`, [1]);
      await pool.query(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [100 + (mode === 'sync' ? 1 : 0), awkward]);
      await assert.rejects(pool.query(`SELECT * FROM ${table}_missing`));
    });
    await pool.end();
    await new Promise((r) => setTimeout(r, 50));
    await auditor.close();
    assert.ok(assertSameText(dir, events) >= 5);
  }
});

test('a context whose actor changes between statements is written as it is at each statement', async () => {
  const dir = tempDir('qt-line-ctx-');
  const actor = { type: 'human' as const, id: 'before' };
  const auditor = createAuditor({ service: { name: 'line-format' }, journal: { dir }, contextProvider: () => ({ actor }) });
  const db = { system: 'postgresql' as const, driver: 'pg' };
  auditor.begin({ text: 'SELECT 1', db }).succeed({ rowsReturned: 1 });
  await auditor.flush();
  actor.id = 'after';
  auditor.begin({ text: 'SELECT 1', db }).succeed({ rowsReturned: 1 });
  await auditor.close();
  const ids = lines(dir)
    .map((l) => JSON.parse(l) as QuerytrailEvent)
    .filter((e) => e.type === 'db.query')
    .map((e) => e.actor?.id);
  assert.deepEqual(ids, ['before', 'after']);
});
