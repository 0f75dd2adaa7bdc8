/**
 * querytrail + Knex: a small bookshop as two users in concurrent requests, every statement knex sends
 * (builder, raw, transactions, streams) audited into a hash-chained journal with the user and the
 * builder's method and table. Runs on the demo's embedded PostgreSQL unless DATABASE_URL names a server.
 *
 *   npx tsx examples/knex/main.ts
 *   DATABASE_URL=postgres://postgres@127.0.0.1/test npx tsx examples/knex/main.ts
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Actor, createAuditor, definePolicy, listSegments, QueryBlockedError, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import { instrumentKnex } from '@querytrail/knex';
import knexFactory, { type Knex } from 'knex';
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js';

const journalDir = resolve(process.env.QUERYTRAIL_EXAMPLE_DIR ?? '.knex-example-audit');

// Destructive statements (DELETE without WHERE, DROP, TRUNCATE, ALTER, ...) only inside a change
// window, and this one is long closed: they are refused before they reach the database. Migrations
// (context source 'migration') are exempt, so the schema can be created.
const policy = definePolicy({
  windows: [{ id: 'maintenance', from: '2000-01-01T00:00:00Z', to: '2000-01-01T02:00:00Z' }],
  destructive: { except: { source: 'migration' } },
});

async function main(): Promise<void> {
  const external = process.env.DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres();
  // The embedded PGlite serves every connection from one database session, so the short-lived
  // connection querytrail opens to read the table catalog would interleave with this app's cursor
  // (the stream below) and lose its portal. This example needs no catalog (no sensitive columns):
  // off on PGlite, on with a real server.
  const auditor = createAuditor({
    service: { name: 'bookshop', env: 'dev' },
    journal: { dir: journalDir },
    policy,
    ...(external ? {} : { catalog: { mode: false as const } }),
  });
  const chain = auditor.journal?.chainId;
  const knex = instrumentKnex(
    knexFactory({ client: 'pg', connection: external ?? embedded!.connectionString, pool: { min: 0, max: 2 } }),
    auditor,
  );
  let refused = '';
  try {
    await auditor.runWithContext({ actor: { type: 'service', id: 'migrations' }, source: 'migration' }, () => createSchema(knex));
    await Promise.all([shop(knex, auditor, { type: 'human', id: 'alice' }), shop(knex, auditor, { type: 'human', id: 'bob' })]);
    // A clean-up script that forgot its WHERE: refused, and recorded as such.
    await auditor.runWithContext({ actor: { type: 'human', id: 'mallory' } }, async () => {
      try {
        await knex('books').del();
      } catch (err) {
        if (!(err instanceof QueryBlockedError)) throw err;
        refused = `${err.code}: ${err.reason}`;
      }
    });
  } finally {
    await knex.destroy();
    await auditor.close();
    await embedded?.stop();
  }
  report(readJournal(chain), refused, external ? 'DATABASE_URL' : 'embedded PostgreSQL (PGlite)');
}

async function createSchema(knex: Knex): Promise<void> {
  await knex.schema.createTable('authors', (t) => {
    t.increments('id');
    t.string('name').notNullable();
  });
  await knex.schema.createTable('books', (t) => {
    t.increments('id');
    t.integer('author_id').notNullable().references('authors.id');
    t.string('title').notNullable();
    t.integer('stock').notNullable().defaultTo(0);
  });
}

/** One user's request: create, read with the relation, update, a transaction, a raw report, a stream, a delete. */
async function shop(knex: Knex, auditor: ReturnType<typeof createAuditor>, actor: Actor): Promise<void> {
  await auditor.runWithContext({ actor, request: { id: `req-${actor.id}` } }, async () => {
    const [author] = await knex('authors').insert({ name: `${actor.id}'s favourite author` }).returning('id');
    await knex('books').insert([
      { author_id: author.id, title: `${actor.id}: first`, stock: 3 },
      { author_id: author.id, title: `${actor.id}: second`, stock: 1 },
    ]);
    await knex('books').join('authors', 'authors.id', 'books.author_id').where('authors.id', author.id).select('books.title', 'authors.name');
    await knex('books').where({ author_id: author.id, title: `${actor.id}: first` }).update({ stock: 2 });
    await knex.transaction(async (trx) => {
      await trx('books').where({ author_id: author.id }).decrement('stock', 1);
      await trx.savepoint(async (sp) => {
        await sp('books').insert({ author_id: author.id, title: `${actor.id}: reprint`, stock: 5 });
      });
    });
    await knex.raw('SELECT count(*) AS n, sum(stock) AS stock FROM books WHERE author_id = ?', [author.id]);
    for await (const _row of knex('books').select('title').where({ author_id: author.id }).stream()) {
      // rows arrive one by one; the statement is one event
    }
    await knex('books').where({ author_id: author.id, title: `${actor.id}: second` }).del();
  });
}

function readJournal(chain: string | undefined): QuerytrailEvent[] {
  return listSegments(journalDir)
    .flatMap((s) => readFileSync(join(journalDir, s.file), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as QuerytrailEvent)
    .filter((e) => e.integrity?.chain_id === chain);
}

function report(events: QuerytrailEvent[], refused: string, where: string): void {
  const statements = events.filter((e) => e.type === 'db.query' || e.type === 'db.query.blocked');
  const lines = [`querytrail + knex on ${where}: ${statements.length} statements recorded`, ''];
  for (const e of statements) {
    const who = e.actor ? `${e.actor.type}:${e.actor.id}` : '-';
    const orm = e.orm ? `${e.orm.operation ?? ''}${e.orm.model ? ` ${e.orm.model}` : ''}` : '(no orm context)';
    const text = (e.statement?.text ?? '').replace(/\s+/g, ' ');
    const mark = e.type === 'db.query.blocked' ? 'BLOCKED ' : '';
    lines.push(`  ${who.padEnd(18)} ${orm.padEnd(26)} ${mark}${text.length > 70 ? `${text.slice(0, 67)}...` : text}`);
  }
  const verdict = verifyJournal(journalDir);
  lines.push(
    '',
    `refused: ${refused || 'nothing'}`,
    `verify: ${verdict.ok ? 'valid' : 'INVALID'} (${verdict.records} records) — check it yourself: npx querytrail verify ${journalDir}`,
    `journal: ${journalDir}`,
  );
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error('example failed:', err);
  process.exitCode = 1;
});
