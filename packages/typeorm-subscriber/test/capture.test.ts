import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type PolicyInput, QueryBlockedError, type QuerytrailEvent } from '@querytrail/core';
import { makeEntities } from './entities.js';
import { admin, createTables, dropTables, type Harness, type Kind, NEVER_OPEN, openHarness, sorted } from './helpers.js';
import { TYPEORM_VERSIONS } from './versions.js';

/**
 * Every TypeORM API path (repository, query builder, raw query, transactions, streams) sends each
 * statement once and querytrail records it once, at the driver, with the entity, the operation and
 * the property → column mapping. TypeORM's own logger is the independent account of what it sent.
 * Every test runs once per TypeORM version (versions.ts), each loaded by its package name.
 */
const ALICE = { actor: { type: 'human' as const, id: 'alice' } };

function texts(events: readonly QuerytrailEvent[]): string[] {
  return events.map((e) => e.statement?.text ?? '');
}

/** Exactly one db.query per statement TypeORM sent, and nothing else recorded. */
function assertRecordedOnce(h: Harness): void {
  assert.ok(h.logger.queries.length > 0, 'TypeORM sent statements');
  assert.deepEqual(sorted(texts(h.queries())), sorted(h.logger.queries));
  assert.deepEqual(
    h.events.filter((e) => !['db.query', 'db.connect', 'db.disconnect', 'sdk.start'].includes(e.type)).map((e) => e.type),
    [],
  );
}

function only(h: Harness, pattern: RegExp): QuerytrailEvent {
  const found = h.queries().filter((e) => pattern.test(e.statement?.text ?? ''));
  assert.equal(found.length, 1, `one event for ${pattern}: ${JSON.stringify(texts(h.queries()))}`);
  return found[0]!;
}

for (const { typeorm, version, tag } of TYPEORM_VERSIONS) {
  for (const kind of ['postgres', 'mariadb'] as Kind[]) {
    describe(`TypeORM ${version} on ${kind}`, () => {
      const entities = makeEntities(typeorm, `qt_to_cap_${kind === 'postgres' ? 'pg' : 'my'}_${tag}`);
      const { Author, Post } = entities;
      let h: Harness;

      before(async () => {
        await createTables(typeorm, kind, entities);
        h = await openHarness(kind, { typeorm, entities });
      });
      after(async () => {
        await h?.close();
        await dropTables(kind, entities);
      });

      test("initialize(): TypeORM's own start-up statements are recorded, each once", () => {
        assertRecordedOnce(h);
        assert.ok(h.queries().every((e) => e.orm?.name === 'typeorm'));
        h.clear();
      });

      test('repository: save, find with relations, update, delete', async () => {
        h.clear();
        await h.auditor.runWithContext(ALICE, async () => {
          const authors = h.ds.getRepository(Author);
          const a = await authors.save(Object.assign(new Author(), { fullName: 'Ada Lovelace', email: 'ada@example.com' }));
          await h.ds.getRepository(Post).save(Object.assign(new Post(), { title: 'Notes', author: a }));
          const found = await authors.find({ where: { email: 'ada@example.com' }, relations: { posts: true } });
          assert.equal(found[0]?.posts?.length, 1);
          await authors.update({ id: a.id }, { fullName: 'Ada King' });
          await authors.delete({ id: a.id });
        });
        assertRecordedOnce(h);
        assert.ok(h.queries().every((e) => e.actor?.id === 'alice'));
        const insert = only(h, new RegExp(`^INSERT INTO .${entities.tables.author}`));
        assert.equal(insert.orm?.model, 'Author');
        assert.equal(insert.orm?.operation, 'save');
        assert.equal(insert.orm?.properties?.fullName, 'full_name');
        const find = only(h, /^SELECT .* LEFT JOIN/);
        assert.deepEqual([find.orm?.model, find.orm?.operation], ['Author', 'find']);
        const update = only(h, /^UPDATE/);
        assert.deepEqual([update.orm?.model, update.orm?.operation, update.orm?.properties], ['Author', 'update', { id: 'id', fullName: 'full_name' }]);
        assert.deepEqual([only(h, /^DELETE/).orm?.model, only(h, /^DELETE/).orm?.operation], ['Author', 'delete']);
        assert.equal(only(h, new RegExp(`^INSERT INTO .${entities.tables.post}`)).orm?.model, 'Post');
      });

      test('query builder: insert, select, update, delete', async () => {
        h.clear();
        await h.auditor.runWithContext(ALICE, async () => {
          await h.ds.createQueryBuilder().insert().into(Author).values({ fullName: 'Grace Hopper', email: 'grace@example.com' }).execute();
          const one = await h.ds.getRepository(Author).createQueryBuilder('a').where('a.email = :e', { e: 'grace@example.com' }).getOne();
          assert.equal(one?.fullName, 'Grace Hopper');
          await h.ds.createQueryBuilder().update(Author).set({ fullName: 'Rear Admiral Hopper' }).where('email = :e', { e: 'grace@example.com' }).execute();
          await h.ds.createQueryBuilder().delete().from(Author).where('email = :e', { e: 'grace@example.com' }).execute();
        });
        assertRecordedOnce(h);
        assert.deepEqual([only(h, /^INSERT/).orm?.model, only(h, /^INSERT/).orm?.operation], ['Author', 'insert']);
        const select = only(h, /^SELECT/);
        assert.deepEqual([select.orm?.model, select.orm?.operation], ['Author', 'getOne']);
        assert.equal(select.orm?.properties?.fullName, 'full_name');
        assert.deepEqual([only(h, /^UPDATE/).orm?.operation, only(h, /^DELETE/).orm?.operation], ['update', 'delete']);
      });

      test('raw query: dataSource.query and manager.query name the entity of the table', async () => {
        h.clear();
        const t = kind === 'postgres' ? `"${entities.tables.author}"` : `\`${entities.tables.author}\``;
        await h.auditor.runWithContext(ALICE, async () => {
          await h.ds.query(`SELECT count(*) AS n FROM ${t}`);
          await h.ds.manager.query(`SELECT full_name FROM ${t} WHERE id = ${kind === 'postgres' ? '$1' : '?'}`, [1]);
          await h.ds.query('SELECT 1 AS one');
        });
        assertRecordedOnce(h);
        const named = only(h, /full_name/);
        assert.deepEqual([named.orm?.model, named.orm?.operation, named.orm?.properties], ['Author', 'query', { id: 'id', fullName: 'full_name' }]);
        assert.equal(only(h, /count/).orm?.model, 'Author');
        const plain = only(h, /SELECT 1/);
        assert.equal(plain.orm?.model, undefined);
        assert.equal(plain.orm?.operation, 'query');
      });

      test('transactions: dataSource.transaction and a QueryRunner, commit and rollback', async () => {
        h.clear();
        await h.auditor.runWithContext(ALICE, async () => {
          await h.ds.transaction(async (m) => {
            await m.save(Object.assign(new Author(), { fullName: 'Tx One', email: 'tx1@example.com' }));
            await m.getRepository(Author).findOneBy({ email: 'tx1@example.com' });
          });
          const qr = h.ds.createQueryRunner();
          await qr.connect();
          await qr.startTransaction();
          await qr.manager.insert(Author, { fullName: 'Tx Two', email: 'tx2@example.com' });
          await qr.rollbackTransaction();
          await qr.release();
        });
        assertRecordedOnce(h);
        const begins = h.queries().filter((e) => /^(START TRANSACTION|BEGIN)/i.test(e.statement?.text ?? ''));
        assert.equal(begins.length, 2);
        assert.equal(begins[0]?.orm?.operation, 'transaction');
        assert.equal(only(h, /^COMMIT/).orm?.operation, 'transaction');
        assert.equal(only(h, /^ROLLBACK/).statement?.class, 'tcl');
        const inserts = h.queries().filter((e) => /^INSERT/.test(e.statement?.text ?? ''));
        assert.deepEqual(
          inserts.map((e) => [e.orm?.model, e.orm?.operation]),
          [
            ['Author', 'save'],
            ['Author', 'insert'],
          ],
        );
        // Same connection for everything in one transaction.
        const txEvents = h.queries().slice(0, h.queries().findIndex((e) => /^COMMIT/.test(e.statement?.text ?? '')) + 1);
        assert.equal(new Set(txEvents.map((e) => e.db?.connection_id)).size, 1);
        assert.equal((await admin(kind, `SELECT email FROM ${entities.tables.author} WHERE email = 'tx2@example.com'`)).length, 0);
      });

      test('stream: queryBuilder.stream() is recorded once, with the rows read', async () => {
        await admin(kind, `INSERT INTO ${entities.tables.author} (full_name, email) VALUES ('S1', 's1@example.com'), ('S2', 's2@example.com')`);
        h.clear();
        const rows: unknown[] = [];
        await h.auditor.runWithContext(ALICE, async () => {
          const stream = await h.ds.getRepository(Author).createQueryBuilder('a').where("a.email LIKE 's%'").stream();
          for await (const row of stream) rows.push(row);
        });
        assert.equal(rows.length, 2);
        assertRecordedOnce(h);
        const e = only(h, /^SELECT/);
        assert.deepEqual([e.orm?.model, e.orm?.operation, e.actor?.id], ['Author', 'stream', 'alice']);
        assert.equal(e.result?.rows_returned, 2);
      });
    });
  }

  for (const kind of ['postgres', 'mariadb'] as Kind[]) {
    // QueryFailedError of the version under test: the app's `instanceof` must hold for its own copy.
    const { QueryFailedError } = typeorm;
    describe(`TypeORM ${version}: blocks on ${kind} surface as QueryFailedError`, () => {
      const entities = makeEntities(typeorm, `qt_to_blk_${kind === 'postgres' ? 'pg' : 'my'}_${tag}`);
      const { Author } = entities;
      before(async () => {
        await createTables(typeorm, kind, entities);
        await admin(kind, `INSERT INTO ${entities.tables.author} (full_name, email) VALUES ('Kept', 'kept@example.com')`);
      });
      after(() => dropTables(kind, entities));

      for (const early of [true, false]) {
        test(`${early ? 'early, in the subscriber' : 'at the driver'}: one db.query.blocked, nothing sent, code QT_ERR_POLICY_BLOCKED`, async () => {
          const h = await openHarness(kind, { typeorm, entities, auditor: { policy: NEVER_OPEN }, plugin: early ? { policy: NEVER_OPEN } : {} });
          try {
            h.clear();
            let caught: unknown;
            await h.auditor.runWithContext(ALICE, () =>
              h.ds.createQueryBuilder().delete().from(Author).execute().catch((err: unknown) => {
                caught = err;
              }),
            );
            assert.ok(caught instanceof QueryFailedError, `QueryFailedError, got ${String(caught)}`);
            const driverError = (caught as { driverError: unknown }).driverError;
            assert.ok(driverError instanceof QueryBlockedError);
            assert.equal(driverError.code, 'QT_ERR_POLICY_BLOCKED');
            assert.equal((caught as unknown as { code: string }).code, 'QT_ERR_POLICY_BLOCKED');
            assert.equal(driverError.ruleId, 'destructive');
            if (early) assert.match((caught as Error).message, /TypeORM Author delete: destructive statement \(DELETE without WHERE\)/);
            const blocked = h.events.filter((e) => e.type === 'db.query.blocked');
            assert.equal(blocked.length, 1);
            assert.deepEqual([blocked[0]?.orm?.model, blocked[0]?.orm?.operation, blocked[0]?.actor?.id], ['Author', 'delete', 'alice']);
            assert.equal(blocked[0]?.policy?.rule_id, 'destructive');
            assert.equal(h.queries().length, 0, 'nothing was sent');
            // TypeORM handled it as any failed statement (logged; afterQuery told), early or not.
            assert.deepEqual(h.logger.errors, [`DELETE FROM ${kind === 'postgres' ? `"${entities.tables.author}"` : `\`${entities.tables.author}\``}`]);
            assert.equal((await admin(kind, `SELECT count(*) AS n FROM ${entities.tables.author}`))[0]?.n?.toString(), '1');
            // The pool is healthy and allowed statements still go through.
            assert.equal((await h.ds.getRepository(Author).countBy({ email: 'kept@example.com' })), 1);
          } finally {
            await h.close();
          }
        });
      }

      test('a blocked stream() reports the QueryBlockedError on the stream, recorded once', async () => {
        const noAuthorReads: PolicyInput = {
          version: 1,
          rules: [{ id: 'no-author-reads', match: { commands: 'SELECT' }, scope: { table: [entities.tables.author] }, action: 'block' }],
        };
        const h = await openHarness(kind, { typeorm, entities, auditor: { policy: noAuthorReads }, plugin: { policy: noAuthorReads } });
        try {
          h.clear();
          const err = await h.auditor.runWithContext(ALICE, async () => {
            const stream = await h.ds.getRepository(Author).createQueryBuilder('a').stream();
            return new Promise((resolve) => {
              stream.on('error', resolve);
              stream.on('end', () => resolve(undefined));
              stream.resume();
            });
          });
          assert.ok(err instanceof QueryBlockedError, `stream error: ${String(err)}`);
          assert.equal(err.ruleId, 'no-author-reads');
          const blocked = h.events.filter((e) => e.type === 'db.query.blocked');
          assert.deepEqual(blocked.map((e) => [e.orm?.model, e.orm?.operation]), [['Author', 'stream']]);
          assert.equal(h.queries().length, 0);
        } finally {
          await h.close();
        }
      });
    });
  }
}
