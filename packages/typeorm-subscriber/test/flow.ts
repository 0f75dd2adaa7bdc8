import assert from 'node:assert/strict';
import { type Auditor, QueryBlockedError, type QuerytrailEvent } from '@querytrail/core';
import type { DataSource } from 'typeorm';
import type { makeEntities } from './entities.js';
import type { Kind } from './helpers.js';
import type { TypeormModule } from './versions.js';

type Entities = ReturnType<typeof makeEntities>;

/**
 * The realistic flow of one actor: create, read with relations, update, a transaction, a raw query,
 * a delete, and a destructive statement (DELETE without WHERE) that policy blocks.
 * Every value the actor writes carries its id, so its statements can be told apart in the evidence.
 */
export async function actorFlow(kind: Kind, ds: DataSource, entities: Entities, actor: string): Promise<unknown> {
  const { Author, Post } = entities;
  const authors = ds.getRepository(Author);
  const posts = ds.getRepository(Post);
  const a = await authors.save(Object.assign(new Author(), { fullName: `${actor} Writer`, email: `${actor}@flow.example` }));
  await posts.save(Object.assign(new Post(), { title: `${actor} first`, author: a }));
  const read = await authors.findOne({ where: { id: a.id }, relations: { posts: true } });
  assert.equal(read?.posts?.length, 1);
  await authors.update({ id: a.id }, { fullName: `${actor} Editor` });
  await ds.transaction(async (m) => {
    await m.save(Object.assign(new Post(), { title: `${actor} second`, author: a }));
    await m.update(Author, { id: a.id }, { email: `${actor}+tx@flow.example` });
  });
  const p = kind === 'postgres' ? '$1' : '?';
  const q = kind === 'postgres' ? '"' : '`';
  const counted = await ds.query(`SELECT count(*) AS n FROM ${q}${entities.tables.post}${q} WHERE author_id = ${p}`, [a.id]);
  assert.equal(String((counted as Array<{ n: unknown }>)[0]?.n), '2');
  await posts.delete({ title: `${actor} first` });
  try {
    await ds.createQueryBuilder().delete().from(Post).execute();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** The entity a statement is about, read off its text: what it inserts into, updates, or reads first. */
export function expectedModel(text: string, entities: Entities): string | undefined {
  const m = /(?:INSERT INTO|UPDATE|DELETE FROM|FROM)\s+["`]?([A-Za-z0-9_]+)["`]?/.exec(text);
  if (!m) return undefined;
  if (m[1] === entities.tables.author) return 'Author';
  if (m[1] === entities.tables.post) return 'Post';
  return undefined;
}

/** The checks every server shares, once the flow ran for alice and bob concurrently. */
export function checkFlow(
  typeorm: TypeormModule,
  journal: readonly QuerytrailEvent[],
  blockedErrors: readonly unknown[],
  entities: Entities,
  user: string,
): QuerytrailEvent[] {
  for (const err of blockedErrors) {
    // The application's own QueryFailedError (of the TypeORM version it uses).
    assert.ok(err instanceof typeorm.QueryFailedError, `blocked through QueryFailedError, got ${String(err)}`);
    const driverError = (err as { driverError: unknown }).driverError;
    assert.ok(driverError instanceof QueryBlockedError);
    assert.equal(driverError.code, 'QT_ERR_POLICY_BLOCKED');
  }
  const mine = journal.filter((e) => e.db?.user === user);
  const sent = mine.filter((e) => e.type === 'db.query');
  const blocked = mine.filter((e) => e.type === 'db.query.blocked');
  assert.deepEqual(blocked.map((e) => [e.actor?.id, e.orm?.model, e.orm?.operation]).sort(), [
    ['alice', 'Post', 'delete'],
    ['bob', 'Post', 'delete'],
  ]);
  for (const actor of ['alice', 'bob']) {
    const own = sent.filter((e) => e.actor?.id === actor);
    // Every statement that carries the actor's values is recorded under that actor.
    const tagged = sent.filter((e) => (e.statement?.params?.values ?? []).some((v) => typeof v === 'string' && v.startsWith(actor)));
    assert.ok(tagged.length >= 5, `${actor}: ${tagged.length} statements carry its values`);
    assert.deepEqual(
      tagged.filter((e) => e.actor?.id !== actor).map((e) => e.statement?.text),
      [],
    );
    for (const e of own) {
      assert.equal(e.orm?.name, 'typeorm');
      assert.equal(e.orm?.model, expectedModel(e.statement?.text ?? '', entities) ?? e.orm?.model, `model of ${e.statement?.text}`);
      if (e.statement?.class !== 'tcl') assert.ok(e.orm?.model, `a model for ${e.statement?.text}`);
    }
  }
  // Two actors, same flow: the same number of statements each.
  assert.equal(sent.filter((e) => e.actor?.id === 'alice').length, sent.filter((e) => e.actor?.id === 'bob').length);
  return sent;
}

export type { Auditor };
