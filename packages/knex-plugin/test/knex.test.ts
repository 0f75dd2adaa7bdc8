import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Actor, createAuditor, QueryBlockedError, QuerytrailError, type QuerytrailEvent, runWithContext } from '@querytrail/core';
import { instrumentKnex } from '@querytrail/knex';
import type { Knex } from 'knex';
import mysql from 'mysql2';
import pg from 'pg';
import { DBS, makeKnex, uniqueName } from './support/dbs.js';
import { alice, bob, harness, settle } from './support/harness.js';

/**
 * instrumentKnex on the real servers: each statement knex sends is one driver event carrying the
 * builder's operation and table, the application's actor is kept, transactions (built by knex from
 * the dialect prototype, not from the instance) and streams are covered, and a block comes back as
 * the rejection of the knex promise with the pool left healthy.
 */

function isBlocked(err: unknown): boolean {
  return err instanceof QueryBlockedError && err.code === 'QT_ERR_POLICY_BLOCKED';
}

async function drain(stream: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const _ of stream) n++;
  return n;
}

for (const db of DBS) {
  describe(`knex on ${db.name}`, () => {
    const table = uniqueName('qt_knex');
    const h = harness();
    let knex: Knex;

    before(async () => {
      await db.admin(`CREATE TABLE ${table} (id int PRIMARY KEY, v varchar(64))`);
      await db.admin(`INSERT INTO ${table} (id, v) VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
      knex = instrumentKnex(makeKnex(db.knexConfig(2)), h.auditor);
    });
    after(async () => {
      await knex.destroy();
      await db.admin(`DROP TABLE IF EXISTS ${table}`);
      await h.auditor.close();
    });

    test('builder statements: one event each, with the builder method and table; the actor is kept', async () => {
      h.clear();
      await runWithContext({ actor: alice, request: { id: 'r-1' } }, async () => {
        await knex(table).insert({ id: 10, v: 'ten' });
        assert.equal((await knex(table).select('id', 'v').where('id', '<', 4)).length, 3);
        assert.equal((await knex(`${table} as t`).first('t.v').where('t.id', 10))?.v, 'ten');
        assert.deepEqual(await knex(table).pluck('id').where('id', 10), [10]);
        await knex(table).where({ id: 10 }).update({ v: 'TEN' });
        await knex.raw(`SELECT count(*) AS n FROM ${table}`);
        await knex(table).where('id', 10).del();
      });
      await settle();
      const got = h.queries(table).map((e) => [e.orm?.operation, e.orm?.model, e.actor?.id, e.request?.id]);
      assert.deepEqual(got, [
        ['insert', table, 'alice', 'r-1'],
        ['select', table, 'alice', 'r-1'],
        ['first', table, 'alice', 'r-1'],
        ['pluck', table, 'alice', 'r-1'],
        ['update', table, 'alice', 'r-1'],
        ['raw', undefined, 'alice', 'r-1'],
        ['del', table, 'alice', 'r-1'],
      ]);
      for (const e of h.queries(table)) assert.equal(e.orm?.name, 'knex');
      assert.equal(h.queries(table)[4]?.result?.rows_affected, 1);
    });

    test('a statement outside any runWithContext still carries the knex context, and no actor', async () => {
      h.clear();
      await knex(table).count({ n: '*' });
      await settle();
      const [e] = h.queries(table);
      assert.equal(h.queries(table).length, 1);
      assert.deepEqual(e?.orm, { name: 'knex', operation: 'select', model: table });
      assert.equal(e?.actor, undefined);
    });

    test('an app whose actor comes from a contextProvider (cls-hooked, ...) keeps it alongside the knex context', async () => {
      const events: QuerytrailEvent[] = [];
      let current: Actor | undefined = { type: 'human', id: 'carol' };
      const auditor = createAuditor({
        service: { name: 'knex-test' },
        journal: false,
        catalog: { mode: false },
        contextProvider: () => (current ? { actor: current } : undefined),
        onEvent: (e) => events.push(e),
      });
      const k = instrumentKnex(makeKnex(db.knexConfig(1)), auditor);
      try {
        await k(table).where('id', 1).first();
        await k.transaction(async (trx) => {
          await trx(table).where('id', 2).first();
        });
        current = undefined;
        await k(table).where('id', 3).first();
        await settle();
        const got = events.filter((e) => e.type === 'db.query' && !/version\(\)/i.test(e.statement?.text ?? ''));
        assert.deepEqual(
          got.map((e) => [e.orm?.operation, e.actor?.id]),
          [
            ['first', 'carol'],
            ['begin', 'carol'],
            ['first', 'carol'],
            ['commit', 'carol'],
            ['first', undefined],
          ],
        );
      } finally {
        await k.destroy();
        await auditor.close();
      }
    });

    test('knex.transaction(cb) with a nested savepoint: BEGIN ... COMMIT each recorded once, in order, with context', async () => {
      h.clear();
      await runWithContext({ actor: bob }, () =>
        knex.transaction(async (trx) => {
          await trx(table).insert({ id: 20, v: 'twenty' });
          await trx.transaction(async (sp) => {
            await sp(table).where({ id: 20 }).update({ v: 'TWENTY' });
          });
          await trx.raw(`SELECT v FROM ${table} WHERE id = ?`, [20]);
        }),
      );
      await settle();
      const conn = h.queries(table)[0]?.db?.connection_id;
      assert.ok(conn);
      const seq = h.onConnection(conn).map((e) => [e.statement?.text?.replace(/trx\d+/, 'trxN'), e.orm?.operation, e.actor?.id]);
      assert.deepEqual(
        seq.map(([text, op]) => [/^(BEGIN|COMMIT|SAVEPOINT|RELEASE)/.test(text ?? '') ? text : 'stmt', op]),
        [
          ['BEGIN;', 'begin'],
          ['stmt', 'insert'],
          ['SAVEPOINT trxN;', 'savepoint'],
          ['stmt', 'update'],
          ['RELEASE SAVEPOINT trxN;', 'release'],
          ['stmt', 'raw'],
          ['COMMIT;', 'commit'],
        ],
      );
      assert.ok(seq.every(([, , actor]) => actor === 'bob'), 'every statement of the transaction has the actor');
      assert.equal((await db.admin(`SELECT v FROM ${table} WHERE id = 20`))[0]?.v, 'TWENTY');
    });

    test('rollbacks: a throwing callback sends ROLLBACK, a throwing savepoint ROLLBACK TO SAVEPOINT', async () => {
      h.clear();
      await runWithContext({ actor: alice }, async () => {
        await assert.rejects(
          knex.transaction(async (trx) => {
            await trx(table).insert({ id: 30, v: 'thirty' });
            throw new Error('app failure');
          }),
          /app failure/,
        );
        await knex.transaction(async (trx) => {
          await trx(table).insert({ id: 31, v: 'kept' });
          await trx
            .transaction(async (sp) => {
              await sp(table).insert({ id: 32, v: 'undone' });
              throw new Error('inner');
            })
            .catch(() => undefined);
        });
      });
      await settle();
      const ops = h.events.filter((e) => e.type === 'db.query').map((e) => e.orm?.operation);
      assert.deepEqual(ops, ['begin', 'insert', 'rollback', 'begin', 'insert', 'savepoint', 'insert', 'rollback to savepoint', 'commit']);
      assert.ok(h.events.filter((e) => e.type === 'db.query').every((e) => e.actor?.id === 'alice'));
      assert.deepEqual(
        (await db.admin(`SELECT id FROM ${table} WHERE id >= 30 ORDER BY id`)).map((r) => Number(r.id)),
        [31],
      );
    });

    test('a transaction driven by hand (await knex.transaction(), trx.commit()) and trx.rollback()', async () => {
      h.clear();
      await runWithContext({ actor: bob }, async () => {
        const trx = await knex.transaction();
        await trx(table).insert({ id: 40, v: 'forty' });
        await trx.commit();
        const trx2 = await knex.transaction();
        await trx2(table).insert({ id: 41, v: 'gone' });
        await trx2.rollback();
      });
      await settle();
      const got = h.events.filter((e) => e.type === 'db.query').map((e) => [e.orm?.operation, e.actor?.id]);
      assert.deepEqual(got, [
        ['begin', 'bob'],
        ['insert', 'bob'],
        ['commit', 'bob'],
        ['begin', 'bob'],
        ['insert', 'bob'],
        ['rollback', 'bob'],
      ]);
      assert.equal((await db.admin(`SELECT id FROM ${table} WHERE id IN (40, 41)`)).length, 1);
    });

    test('.stream(): one event with the rows read, in and out of a transaction', async () => {
      h.clear();
      await runWithContext({ actor: alice }, async () => {
        assert.equal(await drain(knex(table).select('id').where('id', '<', 4).stream()), 3);
        await knex.transaction(async (trx) => {
          assert.equal(await drain(trx(table).select('v').where('id', '<', 3).stream()), 2);
        });
      });
      await settle();
      const streamed = h.queries(table);
      assert.deepEqual(
        streamed.map((e) => [e.orm?.operation, e.orm?.model, e.actor?.id, e.result?.rows_returned]),
        [
          ['select', table, 'alice', 3],
          ['select', table, 'alice', 2],
        ],
      );
    });

    test('a destructive statement is refused: the knex promise rejects with QT_ERR_POLICY_BLOCKED; the pool stays healthy', async () => {
      h.clear();
      const before = (await db.admin(`SELECT count(*) AS n FROM ${table}`))[0]?.n;
      await runWithContext({ actor: bob }, async () => {
        // More blocks than the pool has connections, sequential and concurrent.
        for (let i = 0; i < 3; i++) await assert.rejects(knex(table).del(), isBlocked);
        const all = await Promise.allSettled([1, 2, 3, 4, 5].map(() => knex(table).update({ v: 'x' })));
        assert.ok(all.every((r) => r.status === 'rejected' && isBlocked(r.reason)));
        await assert.rejects(knex.raw(`TRUNCATE TABLE ${table}`), isBlocked);
        // Inside a transaction the block rejects the transaction, which rolls back.
        await assert.rejects(
          knex.transaction(async (trx) => {
            await trx(table).insert({ id: 50, v: 'fifty' });
            await trx(table).del();
          }),
          isBlocked,
        );
      });
      await settle();
      assert.equal((await db.admin(`SELECT count(*) AS n FROM ${table}`))[0]?.n, before, 'nothing reached the server');
      const blocked = h.blocked(table);
      assert.equal(blocked.length, 10);
      assert.deepEqual(blocked[0]?.orm, { name: 'knex', operation: 'del', model: table });
      assert.ok(blocked.every((e) => e.actor?.id === 'bob' && e.policy?.rule_id === 'destructive'));
      assert.equal(h.queries(table).filter((e) => /DELETE|TRUNCATE/i.test(e.statement?.text ?? '')).length, 0);
      assert.deepEqual(
        h.events.filter((e) => e.type === 'db.query' && /^(BEGIN|ROLLBACK)/.test(e.statement?.text ?? '')).map((e) => e.statement?.text),
        ['BEGIN;', 'ROLLBACK'],
      );
      // Healthy: the next statements run, nothing is left checked out or waiting.
      assert.equal((await knex(table).select('id').where('id', '<', 4)).length, 3);
      const pool = knex.client.pool as { numUsed(): number; numPendingAcquires(): number; numFree(): number };
      assert.equal(pool.numUsed(), 0);
      assert.equal(pool.numPendingAcquires(), 0);
      assert.ok(pool.numFree() <= 2);
    });

    test('connections knex made before instrumentKnex (idle, and one held by an open transaction) are instrumented', async () => {
      const local = harness();
      const k = makeKnex(db.knexConfig(3));
      try {
        // Two connections: one idle after this, one held by the open transaction.
        const trx = await k.transaction();
        await Promise.all([k.raw('SELECT 1 AS a'), trx.raw('SELECT 2 AS b')]);
        const pool = k.client.pool as { free: Array<{ resource: object }>; used: Array<{ resource: object }> };
        const idle = pool.free.map((r) => db.connectionId(r.resource));
        const held = pool.used.map((r) => db.connectionId(r.resource));
        assert.equal(idle.length, 1);
        assert.equal(held.length, 1);
        assert.equal(local.events.filter((e) => e.type === 'db.query').length, 0);

        instrumentKnex(k, local.auditor);
        await runWithContext({ actor: alice }, async () => {
          await trx(table).where('id', 1).first();
          await trx.commit();
          await k(table).where('id', 2).first();
        });
        await settle();
        const q = local.events.filter((e) => e.type === 'db.query');
        assert.deepEqual(
          q.map((e) => [e.orm?.operation, e.db?.connection_id, e.actor?.id]),
          [
            ['first', held[0], 'alice'],
            ['commit', held[0], 'alice'],
            ['first', q[2]?.db?.connection_id, 'alice'],
          ],
        );
        assert.ok([...idle, ...held].includes(q[2]?.db?.connection_id ?? ''), 'an existing connection was reused');
      } finally {
        await k.destroy();
        await local.auditor.close();
      }
    });

    test('connections knex creates later are instrumented from their first statement (knex version check included)', async () => {
      const local = harness();
      const k = instrumentKnex(makeKnex(db.knexConfig(1)), local.auditor);
      try {
        // A stream acquires its connection inside the builder's context.
        for await (const _ of k(table).where('id', 3).stream()) void _;
        await settle();
        const q = local.events.filter((e) => e.type === 'db.query');
        assert.match(q[0]?.statement?.text ?? '', /^select version\(\)/i, 'knex version check, sent before any afterCreate hook');
        assert.equal(q[0]?.orm, undefined, "knex's own set-up statement is not the builder's");
        assert.deepEqual(q[1]?.orm, { name: 'knex', operation: 'select', model: table });
        assert.equal(q.length, 2);
        assert.equal(local.events.filter((e) => e.type === 'db.connect').length, 1);
      } finally {
        await k.destroy();
        await local.auditor.close();
      }
    });

    test("a driver pool passed as knex's connectionPool: its connections are instrumented at checkout", async () => {
      const local = harness();
      let end: () => Promise<void>;
      let k: Knex;
      if (db.client === 'pg') {
        const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1 });
        end = () => pool.end();
        k = makeKnex({ client: 'pg', connectionPool: pool } as Knex.Config);
      } else {
        const pool = mysql.createPool({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test', connectionLimit: 1 });
        end = () => new Promise((resolve) => pool.end(() => resolve()));
        k = makeKnex({ client: 'mysql2', connectionPool: pool } as Knex.Config);
      }
      instrumentKnex(k, local.auditor);
      try {
        await runWithContext({ actor: alice }, async () => {
          await k(table).where('id', 1).first();
          await k.transaction(async (trx) => {
            await trx(table).where('id', 2).first();
          });
        });
        await settle();
        const got = local.events.filter((e) => e.type === 'db.query' && !/version\(\)/i.test(e.statement?.text ?? ''));
        assert.deepEqual(
          got.map((e) => [e.orm?.operation, e.actor?.id]),
          [
            ['first', 'alice'],
            ['begin', 'alice'],
            ['first', 'alice'],
            ['commit', 'alice'],
          ],
        );
      } finally {
        await k.destroy();
        await end();
        await local.auditor.close();
      }
    });

    test('another knex instance in the same process is not touched, transactions included', async () => {
      const other = makeKnex(db.knexConfig(1));
      try {
        h.clear();
        await other(table).where('id', 1).first();
        await other.transaction(async (trx) => {
          await trx(table).where('id', 2).first();
        });
        await settle();
        assert.equal(h.events.length, 0);
      } finally {
        await other.destroy();
      }
    });

    test('instrumenting twice changes nothing; a transaction or a second auditor is refused', async () => {
      h.clear();
      assert.equal(instrumentKnex(knex, h.auditor), knex);
      await knex(table).where('id', 1).first();
      await settle();
      assert.equal(h.queries(table).length, 1);
      const other = harness();
      assert.throws(() => instrumentKnex(knex, other.auditor), (e: unknown) => e instanceof QuerytrailError && e.code === 'QT_ERR_INVALID_ARGUMENT');
      await knex.transaction(async (trx) => {
        assert.throws(() => instrumentKnex(trx, h.auditor), /not a transaction/);
      });
      await other.auditor.close();
    });
  });
}

test('an unsupported knex client is refused with a clear error', () => {
  const h = harness();
  const k = makeKnex({ client: 'sqlite3', useNullAsDefault: true });
  assert.throws(() => instrumentKnex(k, h.auditor), /not supported/);
  assert.throws(() => instrumentKnex({ client: {} }, h.auditor), /expected a knex 3 instance/);
  return Promise.all([k.destroy(), h.auditor.close()]).then(() => undefined);
});
