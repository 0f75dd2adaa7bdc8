// A failure inside querytrail's own recording (a bug, never a policy decision) lets the application's
// statement go on. It must not vanish unnoticed: each driver wrapper hands it to the auditor, which
// writes a sink.gap record naming the actor, the database and the text, chained like any other record.
// The failure is provoked for real: a parameter array whose first read throws makes the auditor's
// parameter encoder throw inside begin(); the driver, reading it next, sends the statement.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import mysql from 'mysql2/promise';
import mariadb from 'mariadb';
import pg from 'pg';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import { tempDir } from '../support/temp-dir.js';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' } as const;

/** ['ok'], except that the first read of its element throws (querytrail reads first, at the call site). */
function poisoned(): string[] {
  let thrown = false;
  return new Proxy(['ok'], {
    get(target, key, receiver) {
      if (key === '0' && !thrown) {
        thrown = true;
        throw new Error('qt-test: first read refused');
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

const actor = { type: 'human' as const, id: 'u-77', name: 'Grace' };
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers) await c().catch(() => undefined);
});

function setup() {
  const dir = tempDir();
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name: 'recording-failure' }, journal: { dir }, catalog: { mode: false }, onEvent: (e) => events.push(e) });
  return { dir, events, auditor };
}

function assertGap(events: QuerytrailEvent[], system: string, text: string): void {
  const gaps = events.filter((e) => e.type === 'sink.gap');
  assert.equal(gaps.length, 1, `one sink.gap: ${JSON.stringify(gaps)}`);
  const g = gaps[0]!;
  assert.equal(g.gap?.count, 1);
  assert.match(g.gap!.cause, /recorder\.begin failed: the statement was sent without its db\.query record: qt-test: first read refused/);
  assert.equal(g.actor?.id, 'u-77');
  assert.equal(g.db?.system, system);
  assert.equal(g.statement?.text, text);
  assert.equal(g.statement?.class, 'unknown');
  // The statement itself ran (unaudited) and is recorded nowhere else; the next one is recorded normally.
  assert.equal(events.filter((e) => e.type === 'db.query' && e.statement?.text === text).length, 1);
}

test('pg: a recorder failure at begin is a sink.gap record in the chain', async () => {
  const { dir, events, auditor } = setup();
  const client = auditor.instrumentPg(new pg.Client(PG));
  await client.connect();
  closers.push(() => client.end());
  const text = 'SELECT $1::text AS v';
  await auditor.runWithContext({ actor }, async () => {
    assert.equal((await client.query(text, poisoned())).rows[0].v, 'ok');
    assert.equal((await client.query(text, ['ok'])).rows[0].v, 'ok');
  });
  await auditor.close();
  assertGap(events, 'postgresql', text);
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings));
});

test('mysql2: a recorder failure at begin is a sink.gap record in the chain', async () => {
  const { dir, events, auditor } = setup();
  const conn = auditor.instrumentMysql2(await mysql.createConnection(MY));
  closers.push(() => conn.end());
  const text = 'SELECT ? AS v';
  await auditor.runWithContext({ actor }, async () => {
    for (const params of [poisoned(), ['ok']]) {
      const [rows] = await conn.query(text, params);
      assert.equal((rows as { v: string }[])[0]!.v, 'ok');
    }
  });
  await auditor.close();
  assertGap(events, 'mariadb', text); // mysql2 names the server it finds: MariaDB here
  assert.equal(verifyJournal(dir).ok, true);
});

test('mariadb: a recorder failure at begin is a sink.gap record in the chain', async () => {
  const { dir, events, auditor } = setup();
  const conn = auditor.instrumentMariadb(await mariadb.createConnection(MY));
  closers.push(() => conn.end());
  const text = 'SELECT ? AS v';
  await auditor.runWithContext({ actor }, async () => {
    for (const params of [poisoned(), ['ok']]) {
      const rows = (await conn.query(text, params)) as { v: string }[];
      assert.equal(rows[0]!.v, 'ok');
    }
  });
  await auditor.close();
  assertGap(events, 'mariadb', text);
  assert.equal(verifyJournal(dir).ok, true);
});
