import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import pg from 'pg';
import { openPgLog, type ServerLog } from '../../core/test/support/server-log.js';
import { querytrailExtension, withQuerytrail } from '../src/index.js';
import { actor, generate, harness } from './support.js';

generate('postgres');
const { PrismaClient } = await import('../.generated/postgres/client.js');

const ROLE = `qt_prisma_pg_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 1 });

describe('Prisma 7 + adapter-pg', () => {
  const h = harness();
  let prisma: ReturnType<typeof build>;
  /** What the server itself logged for our role (log_statement = all for that role only). */
  let log: ServerLog | undefined;
  function build() {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: ROLE, database: 'test', max: 4 });
    const adapter = withQuerytrail(new PrismaPg(pool), h.auditor);
    return new PrismaClient({ adapter }).$extends(querytrailExtension(h.auditor));
  }

  before(async () => {
    log = await openPgLog(ROLE);
    if (!log) await admin.query(`CREATE ROLE ${ROLE} LOGIN`); // the flow comparison then fails (no log); the other tests run
    await admin.query('DROP TABLE IF EXISTS qt_prisma_pg_post, qt_prisma_pg_user');
    await admin.query('CREATE TABLE qt_prisma_pg_user (id SERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL, name TEXT NOT NULL)');
    await admin.query(
      'CREATE TABLE qt_prisma_pg_post (id SERIAL PRIMARY KEY, title TEXT NOT NULL, author_id INT NOT NULL REFERENCES qt_prisma_pg_user(id))',
    );
    await admin.query(`GRANT ALL ON qt_prisma_pg_user, qt_prisma_pg_post TO ${ROLE}`);
    await admin.query(`GRANT USAGE ON SEQUENCE qt_prisma_pg_user_id_seq, qt_prisma_pg_post_id_seq TO ${ROLE}`);
    prisma = build();
  });
  after(async () => {
    await prisma.$disconnect();
    await admin.query('DROP TABLE IF EXISTS qt_prisma_pg_post, qt_prisma_pg_user');
    if (log) await log.close();
    else await admin.query(`DROP ROLE IF EXISTS ${ROLE}`);
    await admin.end();
  });

  async function flow(who: string) {
    return h.auditor.runWithContext(actor(who), async () => {
      const user = await prisma.user.create({ data: { email: `${who}@x.test`, name: who, posts: { create: [{ title: `${who} first` }] } } });
      const withPosts = await prisma.user.findUnique({ where: { id: user.id }, include: { posts: true } });
      assert.equal(withPosts?.posts.length, 1);
      await prisma.user.update({ where: { id: user.id }, data: { name: `${who}!` } });
      await prisma.$transaction(async (tx) => {
        await tx.post.create({ data: { title: `${who} second`, authorId: user.id } });
        await tx.user.update({ where: { id: user.id }, data: { name: `${who}!!` } });
      });
      const counted = await prisma.$queryRaw<Array<{ n: bigint }>>`SELECT count(*) AS n FROM qt_prisma_pg_post WHERE author_id = ${user.id}`;
      assert.equal(Number(counted[0]!.n), 2);
      await prisma.post.deleteMany({ where: { authorId: user.id, title: `${who} first` } });
      return user.id;
    });
  }

  test('flow under two concurrent actors: every statement the server ran is in the trail exactly once, right actor and model', async () => {
    // Comparing with what the server executed is the point: without its log this test fails, it never passes.
    assert.ok(log, 'the PostgreSQL server log is not readable here (set QT_PG_LOG to its path)');
    h.events.length = 0;
    await Promise.all([flow('alice'), flow('bob')]);
    await new Promise((r) => setTimeout(r, 300)); // the server log is written asynchronously
    const server = (await log.read()).map((x) => x.text);
    const trail = h.queries();
    assert.ok(server.length >= 20, `server ran the flow (${server.length} statements)`);
    // Same multiset of statement texts on both sides.
    const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    assert.deepEqual(count(trail.map((e) => e.statement!.text!)), count(server));
    for (const e of trail) {
      assert.ok(e.actor?.id === 'alice' || e.actor?.id === 'bob', `actor on ${e.statement?.text}`);
      assert.equal(e.orm?.name, 'prisma');
      const text = e.statement!.text!;
      if (/^(INSERT INTO|UPDATE|DELETE FROM|SELECT .* FROM) "public"\."qt_prisma_pg_(user|post)"/.test(text)) {
        const table = /qt_prisma_pg_(user|post)/.exec(text)![1];
        // Statements on a table come from an operation on that model (or include: posts of a user read).
        assert.ok(e.orm?.model === (table === 'user' ? 'User' : 'Post') || (e.orm?.model === 'User' && table === 'post'), `${e.orm?.model} for ${text}`);
      }
    }
    const raw = trail.filter((e) => /count\(\*\) AS n/.test(e.statement!.text!));
    assert.deepEqual(raw.map((e) => e.orm?.operation).sort(), ['$queryRaw', '$queryRaw']);
    assert.deepEqual(raw.map((e) => e.actor?.id).sort(), ['alice', 'bob']);
    const begins = trail.filter((e) => e.statement?.text === 'BEGIN');
    // One for the nested create (the create's own transaction), one for the interactive $transaction.
    assert.deepEqual(begins.map((e) => `${e.actor?.id}:${e.orm?.operation}`).sort(), [
      'alice:$transaction',
      'alice:create',
      'bob:$transaction',
      'bob:create',
    ]);
    // Within each interactive transaction the post insert is the Post model's, the update the User's.
    for (const who of ['alice', 'bob']) {
      const mine = trail.filter((e) => e.actor?.id === who);
      assert.ok(mine.some((e) => e.orm?.model === 'Post' && e.orm.operation === 'create' && /^INSERT INTO "public"\."qt_prisma_pg_post"/.test(e.statement!.text!)));
      assert.ok(mine.some((e) => e.orm?.model === 'User' && e.orm.operation === 'update'));
    }
  });

  test('concurrent findUnique calls merged into one statement: every caller recorded', async () => {
    const ids = (await prisma.user.findMany({ select: { id: true } })).map((u) => u.id);
    h.events.length = 0;
    const [a, b] = await Promise.all([
      h.auditor.runWithContext(actor('carol'), async () => await prisma.user.findUnique({ where: { id: ids[0]! } })),
      h.auditor.runWithContext(actor('dave'), async () => await prisma.user.findUnique({ where: { id: ids[1]! } })),
    ]);
    assert.equal(a?.id, ids[0]);
    assert.equal(b?.id, ids[1]);
    const q = h.queries();
    assert.equal(q.length, 1, 'one statement served both calls');
    assert.deepEqual(
      q[0]!.orm?.callers?.map((c) => c.actor_id),
      ['carol', 'dave'],
    );
    assert.equal(q[0]!.actor?.id, 'carol');
    assert.equal(q[0]!.orm?.model, 'User');
  });

  test('a lazy PrismaPromise takes the context where it is awaited, not where it was built', async () => {
    h.events.length = 0;
    const pending = h.auditor.runWithContext(actor('builder'), () => prisma.user.count());
    await h.auditor.runWithContext(actor('awaiter'), async () => {
      await pending;
    });
    const q = h.queries();
    assert.equal(q.length, 1);
    assert.equal(q[0]!.actor?.id, 'awaiter');
    assert.equal(q[0]!.orm?.operation, 'count');
  });

  test('batch $transaction([...]): one BEGIN/COMMIT, each call listed as a caller', async () => {
    h.events.length = 0;
    await h.auditor.runWithContext(actor('erin'), () => prisma.$transaction([prisma.user.count(), prisma.post.count()]));
    const q = h.queries();
    assert.equal(q.filter((e) => e.statement?.text === 'BEGIN').length, 1);
    assert.equal(q.filter((e) => e.statement?.text === 'COMMIT').length, 1);
    const counts = q.filter((e) => /^SELECT COUNT/.test(e.statement!.text!));
    assert.equal(counts.length, 2);
    for (const e of counts) {
      assert.equal(e.actor?.id, 'erin');
      assert.deepEqual(e.orm?.callers?.map((c) => `${c.model}.${c.operation}`), ['User.count', 'Post.count']);
    }
  });

  test('destructive outside the window: blocked through PrismaClientKnownRequestError, code preserved, nothing sent', async () => {
    h.events.length = 0;
    // Model level: the extension refuses before any SQL is built.
    const early = await h.auditor.runWithContext(actor('mallory'), () => prisma.post.deleteMany().then(() => undefined, (e: unknown) => e));
    assert.ok(early instanceof PrismaClientKnownRequestError, String(early));
    assert.equal(early.code, 'QT_ERR_POLICY_BLOCKED');
    assert.equal((early.meta as { modelName?: string }).modelName, 'Post');
    // Driver level: the SQL itself is refused by policy (DELETE without WHERE, window closed).
    const late = await h.auditor.runWithContext(actor('mallory'), () =>
      prisma.$executeRawUnsafe('DELETE FROM qt_prisma_pg_post').then(() => undefined, (e: unknown) => e),
    );
    assert.ok(late instanceof PrismaClientKnownRequestError, String(late));
    assert.equal(late.code, 'QT_ERR_POLICY_BLOCKED');
    const blocked = h.events.filter((e) => e.type === 'db.query.blocked');
    assert.equal(blocked.length, 2);
    assert.deepEqual(blocked.map((e) => [e.actor?.id, e.orm?.model ?? null, e.orm?.operation]), [
      ['mallory', 'Post', 'deleteMany'],
      ['mallory', null, '$executeRawUnsafe'],
    ]);
    assert.equal(h.queries().length, 0, 'nothing reached the server');
    assert.ok((await prisma.post.count()) > 0);
  });
});
