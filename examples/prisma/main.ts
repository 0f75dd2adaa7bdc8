/**
 * querytrail + Prisma 7 on the demo's embedded PostgreSQL (nothing to install):
 *
 *   npx tsx examples/prisma/main.ts
 *
 * Generates the Prisma client, creates two tables, runs a small flow as two users, tries a
 * deleteMany without where (refused), prints what was recorded and where the journal is.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { createAuditor, definePolicy, type QuerytrailEvent } from '@querytrail/core';
import { querytrailExtension, withQuerytrail } from '@querytrail/prisma';
import pg from 'pg';
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// `prisma generate` needs no schema engine; any executable stands in for the one it cannot download.
execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(here, 'schema.prisma')], {
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  stdio: 'ignore',
});
const { PrismaClient } = await import('./.generated/client.js');

const db = await startEmbeddedPostgres();
const dir = mkdtempSync(join(tmpdir(), 'querytrail-prisma-'));
const events: QuerytrailEvent[] = [];
const auditor = createAuditor({
  service: { name: 'prisma-example' },
  journal: { dir, mode: 'async' },
  params: { mode: 'hashed' },
  // Destructive statements only inside this (long past) change window: i.e. never now.
  policy: definePolicy({ version: 1, windows: [{ id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-01T01:00:00Z' }] }),
  onEvent: (e) => events.push(e),
});

const pool = new pg.Pool({ connectionString: db.connectionString, max: 1 });
await pool.query('CREATE TABLE users (id SERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL, name TEXT NOT NULL)');
await pool.query('CREATE TABLE posts (id SERIAL PRIMARY KEY, title TEXT NOT NULL, author_id INT NOT NULL REFERENCES users(id))');

const prisma = new PrismaClient({ adapter: withQuerytrail(new PrismaPg(pool), auditor) }).$extends(querytrailExtension(auditor));

for (const who of ['alice', 'bob']) {
  await auditor.runWithContext({ actor: { type: 'human', id: who } }, async () => {
    const user = await prisma.user.create({ data: { email: `${who}@example.test`, name: who } });
    await prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { title: `hello from ${who}`, authorId: user.id } });
      await tx.user.update({ where: { id: user.id }, data: { name: `${who} (author)` } });
    });
    await prisma.user.findUnique({ where: { id: user.id }, include: { posts: true } });
  });
}
try {
  await auditor.runWithContext({ actor: { type: 'human', id: 'mallory' } }, async () => await prisma.post.deleteMany());
} catch (e) {
  console.log(`refused: ${(e as { code?: string }).code} (${(e as Error).constructor.name})\n`);
}

await prisma.$disconnect();
await pool.end(); // an external pool is the app's to end
await auditor.close();
await db.stop();

for (const e of events.filter((x) => x.type === 'db.query' || x.type === 'db.query.blocked')) {
  const who = e.actor?.id ?? '-';
  const orm = e.orm ? `${e.orm.model ?? ''}.${e.orm.operation ?? ''}` : '';
  console.log(`${e.type.padEnd(16)} ${who.padEnd(7)} ${orm.padEnd(22)} ${e.statement?.summary ?? e.statement?.command ?? ''}`);
}
console.log(`\njournal: ${dir}   (verify: npx querytrail verify ${dir})`);
