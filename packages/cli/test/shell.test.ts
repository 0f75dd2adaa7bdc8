import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { Report } from '../src/report/report.js';
import { StatementSplitter } from '../src/shell/statement-splitter.js';
import { runCli } from './support/cli-io.js';

/** The audited shell against the real PostgreSQL and MariaDB: what it runs, refuses and records. */

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const MY_URL = 'mysql://root@127.0.0.1:3306/test';
const table = `qt_shell_${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'qt-cli-shell-'));
const policyFile = join(root, 'policy.yaml');
writeFileSync(policyFile, 'version: 1\nbreakGlass: { allowed: true }\ndestructive: { approvals: true }\n');

after(async () => {
  rmSync(root, { recursive: true, force: true });
  const c = new pg.Client(PG_URL);
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS ${table}`);
  await c.end();
  const m = await mysql.createConnection(MY_URL);
  await m.query(`DROP TABLE IF EXISTS ${table}`);
  await m.end();
});

async function* lines(text: string): AsyncIterable<string> {
  for (const line of text.split('\n')) yield line;
}

const cli = (argv: string[], input = '') => runCli(argv, { input: lines(input) });

let journals = 0;
const journal = () => {
  journals += 1;
  return join(root, `j${journals}`);
};

test('shell on PostgreSQL: statements run as the actor; a destructive one is refused before the server sees it; break-glass is recorded', async () => {
  const dir = journal();
  const input = [
    `CREATE TABLE ${table} (id int, note text);`,
    `INSERT INTO ${table} VALUES (1, 'a;b'), (2, $$it's; fine$$);`,
    `SELECT id, note`,
    `  FROM ${table} ORDER BY id;`,
    `DELETE FROM ${table};`,
    '\\breakglass INC-9 stale rows',
    `DELETE FROM ${table} WHERE id = 2 OR true;`,
    '\\whoami',
    '\\q',
    'SELECT 1; -- after \\q: never run',
  ].join('\n');
  const r = await cli(['shell', '--url', PG_URL, '--journal', dir, '--policy', policyFile, '--actor', 'dev1', '--name', 'Dev One'], input);
  assert.equal(r.code, 1, 'one statement was blocked');
  assert.match(r.out, / id \| note\n-+\+-+\n 1 {2}\| a;b\n 2 {2}\| it's; fine\n\(2 rows\)/);
  assert.match(r.out, /BLOCKED \(QT_ERR_POLICY_BLOCKED, rule destructive\): destructive statement \(DELETE without WHERE\)/);
  assert.match(r.out, /break-glass armed for the next statement: INC-9 stale rows\nDELETE 2\n/);
  assert.match(r.out, /actor human:dev1 \(asserted\), session [0-9a-f-]{36}, source workstation/);
  assert.match(r.err, /5 statement\(s\), 1 failed or blocked/);

  const report = JSON.parse((await cli(['report', dir, '--format', 'json', '--actor', 'dev1'])).out) as Report;
  assert.equal(report.integrity.ok, true);
  const dev = report.actors.find((a) => a.actor === 'human:dev1');
  assert.deepEqual([dev?.name, dev?.statements, dev?.blocked, dev?.destructive, dev?.overrides], ['Dev One', 5, 1, 1, 1]);
  assert.match(report.overrides.items[0]?.reason ?? '', /INC-9 stale rows/);
  const events = (await cli(['search', dir, '--actor', 'dev1', '--type', 'db.query', '--json'])).out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const sessions = new Set(events.map((e) => e.actor.session_id));
  assert.equal(sessions.size, 1, 'one session id for the whole shell');
  assert.deepEqual(
    events.map((e) => e.request.id.split(':')[1]),
    ['1', '2', '3', '5'],
    'each statement its own request id; the 4th was blocked',
  );
  assert.equal(events[0].actor.auth.method, 'asserted');
  const c = new pg.Client(PG_URL);
  await c.connect();
  assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 0, 'only the break-glass DELETE ran');
  await c.end();
});

test('shell on MariaDB with -c: every statement of the option runs; an approval lets a destructive one through', async () => {
  const dir = journal();
  const setup = await cli(['shell', '--url', MY_URL, '--journal', dir, '--policy', policyFile, '-c', `CREATE TABLE ${table} (id int); INSERT INTO ${table} VALUES (1), (2)`]);
  assert.equal(setup.code, 0, setup.out + setup.err);
  assert.match(setup.out, /^OK 0\nOK 2\n$/);
  const input = ['\\approve CHG-7 carol', '\\approve CHG-7 carol 2h', `DELETE FROM ${table};`, `SELECT COUNT(*) AS n FROM ${table};`].join('\n');
  const r = await cli(['shell', '--url', MY_URL, '--journal', dir, '--policy', policyFile, '--actor', 'dev2'], input);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^\\approve needs a ticket, its approver and when it expires/);
  assert.match(r.out, /approval CHG-7 by carol, until \d{4}-.*Z, armed for the next statement\nOK 2\n n\n-+\n 0\n\(1 row\)/);
  const approved = JSON.parse((await cli(['search', dir, '--actor', 'dev2', '--command', 'delete', '--type', 'db.query', '--json'])).out);
  assert.deepEqual([approved.policy.decision, approved.policy.approval.ticket, approved.policy.approval.approver, approved.db.system], ['allow', 'CHG-7', 'carol', 'mariadb']);
});

test('shell: a missing journal, a bad policy, an unknown scheme and an unreachable server are refused with what is wrong', async () => {
  const noJournal = await cli(['shell', '--url', PG_URL]);
  assert.equal(noJournal.code, 2);
  assert.match(noJournal.err, /--journal DIR: where the evidence goes \(required/);
  const badPolicyFile = join(root, 'bad.yaml');
  writeFileSync(badPolicyFile, 'version: 1\nbreakGlass: { allowed: maybe }\n');
  const badPolicy = await cli(['shell', '--url', PG_URL, '--journal', journal(), '--policy', badPolicyFile]);
  assert.equal(badPolicy.code, 2);
  assert.match(badPolicy.err, /breakGlass\.allowed/);
  const scheme = await cli(['shell', '--url', 'sqlite://x', '--journal', journal()]);
  assert.match(scheme.err, /sqlite is not a database this shell speaks/);
  const down = await cli(['shell', '--url', 'postgres://postgres@127.0.0.1:1/test', '--journal', journal()]);
  assert.equal(down.code, 2);
  assert.match(down.err, /ECONNREFUSED/);
});

test('statement splitter: ends only at a ; outside quotes, dollar quotes and comments; waits for the rest', () => {
  const pgs = new StatementSplitter('postgres');
  assert.deepEqual(pgs.push("SELECT 'a;b', \"c;d\" -- e;f"), []);
  assert.deepEqual(pgs.push('; SELECT $x$ ; $x$, /* ; */ 1;'), [`SELECT 'a;b', "c;d" -- e;f\n`.trim(), 'SELECT $x$ ; $x$, /* ; */ 1']);
  assert.deepEqual(pgs.push("SELECT 'it''s"), []);
  assert.equal(pgs.pending, true);
  assert.deepEqual(pgs.push("'; SELECT 'a\\';"), ["SELECT 'it''s\n'", "SELECT 'a\\'"], 'a backslash is a plain character in PostgreSQL');
  const my = new StatementSplitter('mysql');
  assert.deepEqual(my.push("SELECT 'a\\';b'; # c;d"), ["SELECT 'a\\';b'"], 'MySQL: backslash escapes the quote; # starts a comment');
  assert.deepEqual(my.push('SELECT `x;y` FROM t;;'), ['# c;d\nSELECT `x;y` FROM t']);
  assert.equal(my.rest(), undefined);
});
