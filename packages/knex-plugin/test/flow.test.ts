import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Actor,
  createAuditor,
  definePolicy,
  listSegments,
  QueryBlockedError,
  type QuerytrailEvent,
  runWithContext,
  verifyJournal,
} from '@querytrail/core';
import { instrumentKnex } from '@querytrail/knex';
import type { Knex } from 'knex';
import { tempDir } from '../../core/test/support/temp-dir.js';
import { closedWindowPolicy, DBS, makeKnex, type TestDb, uniqueName } from './support/dbs.js';
import { alice, bob } from './support/harness.js';
import { type Executed, mysqlText, openMariaDbLog, openPgLog, type ServerLog } from '../../core/test/support/server-log.js';

/**
 * The realistic flow of issue #6, as two actors at once on a pool of 2 connections: create, read
 * with a relation, update, a transaction with a savepoint, a raw query, a stream, a delete, and a
 * destructive statement that the policy blocks. Checked against what the server itself executed
 * (its own log, for a login used only here): every statement it ran is in the journal exactly once,
 * in the same order on the same connection, with the actor that issued it and the table as model.
 */

const ROUNDS = 3;

interface Tables {
  authors: string;
  books: string;
}

async function flow(knex: Knex, db: TestDb, t: Tables, actor: Actor, round: number): Promise<void> {
  const tag = `${actor.id}:${round}`;
  await runWithContext({ actor, request: { id: `${tag}:req` } }, async () => {
    // create (a parent and its children)
    let authorId: number;
    if (db.client === 'pg') {
      const [row] = await knex(t.authors).insert({ name: tag }).returning('id');
      authorId = (row as { id: number }).id;
    } else {
      authorId = ((await knex(t.authors).insert({ name: tag })) as number[])[0] ?? Number.NaN;
    }
    await knex(t.books).insert([
      { author_id: authorId, title: `${tag}:b1` },
      { author_id: authorId, title: `${tag}:b2` },
    ]);
    // read with the relation
    const rows = await knex(t.books)
      .join(t.authors, `${t.authors}.id`, `${t.books}.author_id`)
      .where(`${t.authors}.name`, tag)
      .select(`${t.books}.title`, `${t.authors}.name`);
    assert.equal(rows.length, 2);
    // update
    await knex(t.books).where({ author_id: authorId, title: `${tag}:b1` }).update({ title: `${tag}:b1x` });
    // a transaction with a savepoint
    await knex.transaction(async (trx) => {
      await trx(t.books).insert({ author_id: authorId, title: `${tag}:t1` });
      await trx.transaction(async (sp) => {
        await sp(t.books).where('title', `${tag}:t1`).update({ title: `${tag}:t2` });
      });
    });
    // raw
    const counted = await knex.raw(`SELECT count(*) AS n FROM ${t.books} WHERE title LIKE ?`, [`${tag}:%`]);
    const n = db.client === 'pg' ? counted.rows[0].n : counted[0][0].n;
    assert.equal(Number(n), 3);
    // stream
    let streamed = 0;
    for await (const _ of knex(t.books).select('title').where('title', 'like', `${tag}:%`).stream()) streamed++;
    assert.equal(streamed, 3);
    // delete
    await knex(t.books).where('title', `${tag}:b2`).del();
    // destructive, outside any change window: refused through knex's own promise
    await assert.rejects(knex(t.books).del(), (e: unknown) => e instanceof QueryBlockedError && e.code === 'QT_ERR_POLICY_BLOCKED');
  });
}

function readJournal(dir: string): QuerytrailEvent[] {
  const out: QuerytrailEvent[] = [];
  for (const s of listSegments(dir)) {
    for (const line of readFileSync(join(dir, s.file), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as QuerytrailEvent);
  }
  return out;
}

/** A journal event as the server would have logged it. */
function asExecuted(db: TestDb, e: QuerytrailEvent): Executed {
  const text = e.statement?.text ?? '';
  const values = (e.statement?.params?.values ?? []) as unknown[];
  if (db.client === 'mysql2') return { connection: e.db?.connection_id ?? '', text: mysqlText(text, values), params: [] };
  return { connection: e.db?.connection_id ?? '', text, params: values.map((v) => (v === null ? null : String(v))) };
}

function byConnection(list: Executed[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const x of list) {
    const key = x.connection;
    if (!m.has(key)) m.set(key, []);
    // MariaDB's general log drops a statement's final ';' (BEGIN; is logged as BEGIN).
    const text = x.text.replace(/;\s*$/, '');
    m.get(key)!.push(x.params.length > 0 ? `${text} -- ${JSON.stringify(x.params)}` : text);
  }
  return m;
}

const TX = /^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

for (const db of DBS) {
  describe(`the issue #6 flow with knex on ${db.name}, two concurrent actors, checked against the server's log`, () => {
    const t: Tables = { authors: uniqueName('qt_knex_authors'), books: uniqueName('qt_knex_books') };
    const login = uniqueName('qt_knex');
    let log: ServerLog | undefined;

    before(async () => {
      if (db.client === 'pg') {
        await db.admin(`CREATE TABLE ${t.authors} (id serial PRIMARY KEY, name varchar(64) NOT NULL)`);
        await db.admin(`CREATE TABLE ${t.books} (id serial PRIMARY KEY, author_id int NOT NULL REFERENCES ${t.authors}(id), title varchar(64) NOT NULL)`);
        await db.admin(`CREATE INDEX ON ${t.books} (title)`);
        log = await openPgLog(login);
        if (log) await db.admin(`GRANT ALL ON ${t.authors}, ${t.books}, ${t.authors}_id_seq, ${t.books}_id_seq TO ${login}`);
      } else {
        await db.admin(`CREATE TABLE ${t.authors} (id int AUTO_INCREMENT PRIMARY KEY, name varchar(64) NOT NULL)`);
        await db.admin(`CREATE TABLE ${t.books} (id int AUTO_INCREMENT PRIMARY KEY, author_id int NOT NULL, title varchar(64) NOT NULL, KEY (title), FOREIGN KEY (author_id) REFERENCES ${t.authors}(id))`);
        log = await openMariaDbLog(login);
        for (const host of ['%', 'localhost']) await db.admin(`GRANT SELECT, INSERT, UPDATE, DELETE ON test.* TO '${login}'@'${host}'`);
      }
    });
    after(async () => {
      await log?.close();
      await db.admin(`DROP TABLE IF EXISTS ${t.books}`);
      await db.admin(`DROP TABLE IF EXISTS ${t.authors}`);
    });

    test('every statement the server executed is in the journal exactly once, with its actor and model', async () => {
      // Comparing with what the server executed is the point: without its log this test fails, it never passes.
      assert.ok(log, 'the PostgreSQL server log is not readable here (set QT_PG_LOG to its path)');
      const dir = tempDir('qt-knex-flow-');
      const auditor = createAuditor({
        service: { name: 'knex-flow', env: 'test' },
        journal: { dir, mode: 'async' },
        params: { mode: 'raw' },
        catalog: { mode: false },
        policy: definePolicy(closedWindowPolicy),
      });
      await auditor.ready();
      const knex = instrumentKnex(makeKnex(db.knexConfig(2, log.user)), auditor);
      try {
        // Sentinels around the flow: both must be in the server's record, or it missed part of the run.
        await knex.raw(`SELECT 'sentinel:begin' AS s`);
        for (let round = 0; round < ROUNDS; round++) await Promise.all([flow(knex, db, t, alice, round), flow(knex, db, t, bob, round)]);
        await knex.raw(`SELECT 'sentinel:end' AS s`);
      } finally {
        await knex.destroy();
        await auditor.close();
      }
      const journal = readJournal(dir);
      assert.ok(verifyJournal(dir).ok, 'the journal verifies');
      const mine = journal.filter((e) => e.type === 'db.query' && e.db?.user === login);
      const executed = await log.read();
      for (const s of ['sentinel:begin', 'sentinel:end']) {
        assert.equal(executed.filter((x) => x.text.includes(s)).length, 1, `the server's record holds ${s}: it covers the whole run`);
      }

      // 1. The same statements, in the same order, on the same connections: none missing, none twice.
      assert.ok(executed.length >= ROUNDS * 2 * 13, `the server logged ${executed.length} statements`);
      assert.deepEqual(byConnection(mine.map((e) => asExecuted(db, e))), byConnection(executed));

      // 2. The right actor: a statement naming an actor's tag is that actor's; a transaction is one actor's.
      const all = mine.map((e) => ({ e, text: asExecuted(db, e).text + JSON.stringify(e.statement?.params?.values ?? []) }));
      for (const { e, text } of all) {
        const owner = /\b(alice|bob):\d/.exec(text)?.[1];
        if (owner) assert.equal(e.actor?.id, owner, `${text} was recorded as ${e.actor?.id}`);
      }
      for (const conn of new Set(mine.map((e) => e.db?.connection_id))) {
        let open: string | undefined | null = null;
        for (const e of mine.filter((x) => x.db?.connection_id === conn)) {
          const text = e.statement?.text ?? '';
          if (/^BEGIN/i.test(text)) open = e.actor?.id;
          else if (open !== null) assert.equal(e.actor?.id, open, `${text} inside a transaction of ${open}`);
          if (/^(COMMIT|ROLLBACK)\b(?! TO)/i.test(text)) open = null;
        }
      }
      const perActor = (id: string) => mine.filter((e) => e.actor?.id === id && e.orm?.name === 'knex').length;
      assert.equal(perActor('alice'), perActor('bob'));
      assert.equal(perActor('alice'), ROUNDS * 13, 'create 2, read, update, 6 in the transaction, raw, stream, delete');

      // 3. The model: each builder statement names the table it works on.
      for (const e of mine.filter((x) => x.orm?.name === 'knex' && !TX.test(x.statement?.text ?? ''))) {
        const op = e.orm?.operation;
        if (op === 'raw') assert.equal(e.orm?.model, undefined);
        else {
          assert.ok(e.orm?.model === t.authors || e.orm?.model === t.books, `${op} has model ${e.orm?.model}`);
          assert.ok(e.statement?.text?.toLowerCase().match(new RegExp(`(from|into|update) [\`"]${e.orm?.model}[\`"]`)), e.statement?.text);
        }
      }
      assert.deepEqual(
        [...new Set(mine.map((e) => e.orm?.operation))].sort(),
        ['begin', 'commit', 'del', 'insert', 'raw', 'release', 'savepoint', 'select', 'update', undefined].sort(),
      );

      // 4. The blocked DELETEs: recorded for each actor, never executed.
      const blocked = journal.filter((e) => e.type === 'db.query.blocked');
      assert.equal(blocked.length, ROUNDS * 2);
      assert.deepEqual(blocked.map((e) => e.actor?.id).sort(), [...Array(ROUNDS).fill('alice'), ...Array(ROUNDS).fill('bob')]);
      assert.ok(blocked.every((e) => e.orm?.operation === 'del' && e.orm.model === t.books && e.policy?.rule_id === 'destructive'));
      assert.equal(executed.filter((x) => /^delete from\s+\S+\s*$/i.test(x.text)).length, 0, 'no unqualified DELETE reached the server');
    });
  });
}
