import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import { createAuditor, definePolicy, listSegments, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import mariadb, { type Pool } from 'mariadb';
import { type Executed, type MariaDbLog, mariadbLogged, openMariaDbLog } from '../../core/test/support/server-log.js';
import { tempDir } from '../../core/test/support/temp-dir.js';
import { validatingListener } from '../../core/test/support/valid-events.js';
import { querytrailExtension, withQuerytrail } from '../src/index.js';
import { actor, generate, neverOpen } from './support.js';

/**
 * The flow of issue #6 with Prisma 7 + @prisma/adapter-mariadb, as two concurrent actors on a pool of
 * 4: create (with a nested create), read with a relation, update, an interactive transaction, a raw
 * query, a delete, and destructive statements the policy blocks. Checked against what the server
 * itself executed (the general log of a login used only here): every statement it ran is in the
 * journal exactly once, in the same order on the same connection, with the actor that issued it and
 * the model; the blocked statements never reached it.
 *
 * Matching: Prisma sends its statements as prepared statements (the server logs each Execute with the
 * values inlined) and transaction control as text queries. The journal keeps the template and (params
 * mode raw) the values; mariadbLogged puts each value where its `?` is, as the server writes it, and
 * the two sides must then be equal line for line, connection by connection. The one latitude: a raw
 * journal value that is a string of digits may have been a bigint (Prisma binds LIMIT / OFFSET as
 * bigints; JSON has none), which the server logs unquoted.
 */

generate('mariadb');
const { PrismaClient } = await import('../.generated/mariadb/client.js');

const ROUNDS = 2;
const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };
const USERS = 'qt_prisma_my_user';
const POSTS = 'qt_prisma_my_post';
const LOGIN = `qt_prisma_my_${randomBytes(4).toString('hex')}`;
/** Control statements Prisma's adapter and the driver send outside any model query. */
const TX = /^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|SET TRANSACTION)\b/;

async function admin(sql: string): Promise<unknown> {
  const c = await mariadb.createConnection(DB);
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

function readJournal(dir: string): QuerytrailEvent[] {
  const out: QuerytrailEvent[] = [];
  for (const s of listSegments(dir)) {
    for (const line of readFileSync(join(dir, s.file), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as QuerytrailEvent);
  }
  return out;
}

/** A journal event as the general log would show it. */
function logged(e: QuerytrailEvent) {
  return mariadbLogged(e.statement?.text ?? '', e.statement?.params?.values as unknown[] | undefined);
}
const asLogged = (e: QuerytrailEvent) => logged(e).text;

function byConnection(list: Executed[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const x of list) {
    if (!m.has(x.connection)) m.set(x.connection, []);
    m.get(x.connection)!.push(x.text);
  }
  return m;
}

/**
 * The journal's statements and the server's, connection by connection, in order. A journal line that
 * matches the server's line at the same place is shown as the server's, so a diff shows only real
 * differences (missing, extra, reordered, other values).
 */
function assertSameStatements(journal: QuerytrailEvent[], executed: Executed[]): void {
  const server = byConnection(executed);
  const ours = new Map<string, string[]>();
  for (const e of journal) {
    const conn = e.db?.connection_id ?? '?';
    if (!ours.has(conn)) ours.set(conn, []);
    const list = ours.get(conn)!;
    const expected = logged(e);
    const theirs = server.get(conn)?.[list.length];
    list.push(theirs !== undefined && expected.pattern.test(theirs) ? theirs : expected.text);
  }
  assert.deepEqual(ours, server);
}

/** Prisma's own refusal type, with querytrail's code. */
function isBlocked(e: unknown): boolean {
  return e instanceof PrismaClientKnownRequestError && e.code === 'QT_ERR_POLICY_BLOCKED';
}

function build(auditor: ReturnType<typeof createAuditor>, pool: Pool) {
  const adapter = new PrismaMariaDb(auditor.instrumentMariadb(pool) as unknown as ConstructorParameters<typeof PrismaMariaDb>[0]);
  return new PrismaClient({ adapter: withQuerytrail(adapter, auditor) }).$extends(querytrailExtension(auditor));
}
type Client = ReturnType<typeof build>;

/** One actor's round; returns its user id. */
async function flow(auditor: ReturnType<typeof createAuditor>, prisma: Client, who: string, round: number): Promise<number> {
  const tag = `${who}:${round}`;
  return auditor.runWithContext({ ...actor(who), request: { id: `req-${tag}` } }, async () => {
    // create, with a nested create (Prisma runs it in its own transaction)
    const user = await prisma.user.create({ data: { email: `${tag}@x.test`, name: tag, posts: { create: [{ title: `${tag}:first` }] } } });
    // read with the relation
    const found = await prisma.user.findUnique({ where: { id: user.id }, include: { posts: true } });
    assert.deepEqual(found?.posts.map((p) => p.title), [`${tag}:first`]);
    // update
    await prisma.user.update({ where: { id: user.id }, data: { name: `${tag}!` } });
    // an interactive transaction
    await prisma.$transaction(async (tx) => {
      await tx.post.create({ data: { title: `${tag}:second`, authorId: user.id } });
      await tx.user.update({ where: { id: user.id }, data: { name: `${tag}!!` } });
    });
    // raw
    const counted = await prisma.$queryRaw<Array<{ n: bigint }>>`SELECT COUNT(*) AS n FROM qt_prisma_my_post WHERE author_id = ${user.id}`;
    assert.equal(Number(counted[0]!.n), 2);
    // delete
    const deleted = await prisma.post.deleteMany({ where: { authorId: user.id, title: `${tag}:first` } });
    assert.equal(deleted.count, 1);
    // destructive, outside any change window: refused through Prisma's own error type, at the driver...
    const late = await prisma.$executeRawUnsafe(`DELETE FROM ${POSTS}`).then(() => undefined, (e: unknown) => e);
    assert.ok(isBlocked(late), String(late));
    // ...and at the model, before any SQL is built
    const early = await prisma.post.deleteMany().then(() => undefined, (e: unknown) => e);
    assert.ok(isBlocked(early), String(early));
    const bulk = await prisma.user.updateMany({ data: { name: 'everyone' } }).then(() => undefined, (e: unknown) => e);
    assert.ok(isBlocked(bulk), String(bulk));
    return user.id;
  });
}

describe('Prisma 7 + adapter-mariadb: the issue #6 flow, two concurrent actors, checked against the server general log', () => {
  let log: MariaDbLog;

  before(async () => {
    await admin(`DROP TABLE IF EXISTS ${POSTS}, ${USERS}`);
    // Ids far from LIMIT / OFFSET values, and apart from each other: a user id in a statement's values names its actor.
    await admin(`CREATE TABLE ${USERS} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(191) UNIQUE NOT NULL, name VARCHAR(191) NOT NULL) AUTO_INCREMENT = 1000`);
    await admin(
      `CREATE TABLE ${POSTS} (id INT AUTO_INCREMENT PRIMARY KEY, title VARCHAR(191) NOT NULL, author_id INT NOT NULL, FOREIGN KEY (author_id) REFERENCES ${USERS}(id)) AUTO_INCREMENT = 500000`,
    );
    log = await openMariaDbLog(LOGIN);
    for (const host of ['%', 'localhost']) await admin(`GRANT SELECT, INSERT, UPDATE, DELETE ON test.* TO '${LOGIN}'@'${host}'`);
  });
  after(async () => {
    await log?.close();
    await admin(`DROP TABLE IF EXISTS ${POSTS}, ${USERS}`);
  });

  test('every statement the server executed is in the journal exactly once, with its actor and model; blocked ones never sent', async () => {
    const dir = tempDir('qt-prisma-my-flow-');
    const auditor = createAuditor({
      service: { name: 'prisma-mariadb-flow', env: 'test' },
      journal: { dir, mode: 'async' },
      params: { mode: 'raw' },
      catalog: { mode: false },
      policy: definePolicy({ version: 1, mode: 'enforce', windows: [neverOpen] }),
      onEvent: validatingListener(() => {}),
    });
    await auditor.ready();
    const pool = mariadb.createPool({ ...DB, user: log.user.name, password: log.user.password, connectionLimit: 4 });
    const prisma = build(auditor, pool);
    const ids = new Map<number, string>();
    try {
      await prisma.$connect(); // the adapter's SELECT VERSION() probe, outside any actor
      // Sentinels around the flow: both must be in the server's record, or it missed part of the run.
      await prisma.$queryRawUnsafe(`SELECT 'sentinel:begin' AS s`);
      for (let round = 0; round < ROUNDS; round++) {
        const [a, b] = await Promise.all([flow(auditor, prisma, 'alice', round), flow(auditor, prisma, 'bob', round)]);
        ids.set(a, 'alice').set(b, 'bob');
      }
      await prisma.$queryRawUnsafe(`SELECT 'sentinel:end' AS s`);
    } finally {
      await prisma.$disconnect();
      await pool.end();
      await auditor.close();
    }
    const journal = readJournal(dir);
    assert.ok(verifyJournal(dir).ok, 'the journal verifies');
    const mine = journal.filter((e) => e.type === 'db.query' && e.db?.user === LOGIN);
    const executed: Executed[] = await log.read();
    for (const s of ['sentinel:begin', 'sentinel:end']) {
      assert.equal(executed.filter((x) => x.text.includes(s)).length, 1, `the server's record holds ${s}: it covers the whole run`);
    }

    // 1. The same statements, in the same order, on the same connections: none missing, none twice.
    //    Prisma's queries arrive as prepared statements, its transaction control as text.
    assert.ok(executed.length >= ROUNDS * 2 * 15, `the server logged ${executed.length} statements`);
    assert.ok(executed.filter((x) => x.command === 'Execute').length >= ROUNDS * 2 * 10, 'prepared statements are in the comparison');
    assert.ok(mine.every((e) => e.statement?.params === undefined || e.statement.params.mode === 'raw'));
    assertSameStatements(mine, executed);
    assert.equal(mine.filter((e) => e.statement?.text === 'SELECT VERSION()').length, 1, 'the probe, once');

    // 2. The right actor. Evidence in a statement: an actor's tag in the values, or one of its user ids.
    const actorsOf = (e: QuerytrailEvent) => new Set(e.orm?.callers ? e.orm.callers.map((c) => c.actor_id) : [e.actor?.id]);
    for (const e of mine) {
      const values = (e.statement?.params?.values ?? []) as unknown[];
      const owners = new Set<string | undefined>();
      for (const v of values) {
        if (typeof v === 'string') for (const m of v.matchAll(/\b(alice|bob):\d/g)) owners.add(m[1]);
        if (typeof v === 'number' && ids.has(v)) owners.add(ids.get(v));
      }
      const actors = actorsOf(e);
      for (const o of owners) assert.ok(actors.has(o), `${asLogged(e)} was recorded for ${[...actors]}`);
      // A merged statement (Prisma's DataLoader) lists every caller; otherwise it is one actor's.
      if (!e.orm?.callers && owners.size > 0) assert.deepEqual([...owners], [e.actor?.id], asLogged(e));
    }
    // A transaction, from BEGIN to COMMIT / ROLLBACK on its connection, is one actor's.
    for (const conn of new Set(mine.map((e) => e.db?.connection_id))) {
      let open: string | undefined | null = null;
      for (const e of mine.filter((x) => x.db?.connection_id === conn)) {
        const text = e.statement?.text ?? '';
        if (text === 'BEGIN') open = e.actor?.id;
        else if (open !== null) assert.equal(e.actor?.id, open, `${text} inside a transaction of ${open}`);
        if (/^(COMMIT|ROLLBACK)$/.test(text)) open = null;
      }
    }
    const flowEvents = mine.filter((e) => e.statement?.text !== 'SELECT VERSION()' && !/sentinel:/.test(e.statement?.text ?? ''));
    assert.ok(flowEvents.every((e) => e.actor?.id === 'alice' || e.actor?.id === 'bob'), 'every flow statement has an actor');
    assert.ok(flowEvents.every((e) => e.orm?.name === 'prisma' && e.db?.driver === 'mariadb'));

    // 3. The model: a statement on the user table is a User operation; one on the post table a Post
    //    operation or a User one (nested create, include); raw and control statements have none.
    for (const e of flowEvents) {
      const text = e.statement?.text ?? '';
      const op = e.orm?.operation;
      if (op === '$queryRaw') assert.equal(e.orm?.model, undefined, text);
      else if (TX.test(text)) {
        // Transaction control carries what opened it: a write that needs one, or $transaction.
        if (op === '$transaction') assert.equal(e.orm?.model, undefined, text);
        else assert.ok(e.orm?.model === 'User' && (op === 'create' || op === 'update'), `${e.orm?.model}.${op} for ${text}`);
      }
      else if (text.includes(`\`${USERS}\``)) assert.equal(e.orm?.model, 'User', text);
      else assert.ok(text.includes(`\`${POSTS}\``) && (e.orm?.model === 'Post' || e.orm?.model === 'User'), `${e.orm?.model} for ${text}`);
    }
    for (const who of ['alice', 'bob']) {
      const theirs = flowEvents.filter((e) => actorsOf(e).has(who));
      // Each round: the nested create's own transaction, the update's (MySQL has no RETURNING: update
      // then read back), then the interactive one.
      const opsOf = (sql: string) => theirs.filter((e) => e.statement?.text === sql).map((e) => e.orm?.operation);
      assert.deepEqual(opsOf('BEGIN'), Array(ROUNDS).fill(['create', 'update', '$transaction']).flat());
      assert.deepEqual(opsOf('COMMIT'), Array(ROUNDS).fill(['create', 'update', '$transaction']).flat());
      const count = (model: string, operation: string, table: string, verb: string) =>
        theirs.filter((e) => e.orm?.model === model && e.orm.operation === operation && e.statement?.text?.startsWith(`${verb}`) && e.statement.text.includes(`\`${table}\``)).length;
      assert.equal(count('User', 'create', USERS, 'INSERT INTO'), ROUNDS);
      assert.equal(count('User', 'create', POSTS, 'INSERT INTO'), ROUNDS, 'the nested create is the User create');
      assert.equal(count('Post', 'create', POSTS, 'INSERT INTO'), ROUNDS, 'inside the interactive transaction');
      assert.equal(count('User', 'update', USERS, 'UPDATE'), 2 * ROUNDS);
      assert.equal(count('Post', 'deleteMany', POSTS, 'DELETE'), ROUNDS);
      assert.equal(theirs.filter((e) => e.orm?.operation === '$queryRaw').length, ROUNDS);
    }

    // 4. The blocked statements: recorded for each actor, never sent (no Prepare, no Query, no Execute).
    const blocked = journal.filter((e) => e.type === 'db.query.blocked');
    const rows = blocked.map((e) => `${e.actor?.id} ${e.orm?.model ?? '-'}.${e.orm?.operation} ${e.policy?.rule_id}`).sort();
    assert.deepEqual(rows, [
      ...Array(ROUNDS).fill('alice -.$executeRawUnsafe destructive'),
      ...Array(ROUNDS).fill('alice Post.deleteMany prisma.unfiltered-bulk'),
      ...Array(ROUNDS).fill('alice User.updateMany prisma.unfiltered-bulk'),
      ...Array(ROUNDS).fill('bob -.$executeRawUnsafe destructive'),
      ...Array(ROUNDS).fill('bob Post.deleteMany prisma.unfiltered-bulk'),
      ...Array(ROUNDS).fill('bob User.updateMany prisma.unfiltered-bulk'),
    ]);
    const everything = await log.lines();
    assert.ok(everything.some((x) => x.command === 'Prepare'), 'the record includes Prepare lines');
    const unqualified = new RegExp(`^DELETE FROM \`?(test\`?\\.\`?)?${POSTS}\`?\\s*$`, 'i');
    assert.deepEqual(everything.filter((x) => unqualified.test(x.text)), [], 'no DELETE without WHERE reached the server');
    assert.equal(everything.filter((x) => /^DELETE\b/i.test(x.text) && x.command !== 'Prepare').length, 2 * ROUNDS, 'only the filtered deletes ran');
    assert.deepEqual(everything.filter((x) => x.text.includes('everyone')), [], 'the bulk update was never built');
    const [left] = (await admin(`SELECT COUNT(*) AS n FROM ${POSTS}`)) as Array<{ n: bigint }>;
    assert.equal(Number(left?.n), 2 * ROUNDS, 'each round left its second post');
  });
});
