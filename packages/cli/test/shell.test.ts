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
  assert.match(r.err, /5 statement\(s\), 1 failed, blocked or not run/);

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

test('statement splitter: cuts where the server does (the analysis lexer), never inside strings, comments or routine bodies', () => {
  const pgs = new StatementSplitter('postgres');
  assert.deepEqual(pgs.push("SELECT 'a;b', \"c;d\" -- e;f"), []);
  assert.deepEqual(pgs.push('; SELECT $x$ ; $x$, /* ; /* nested ; */ still; */ 1;'), [`SELECT 'a;b', "c;d"`, 'SELECT $x$ ; $x$, /* ; /* nested ; */ still; */ 1']);
  assert.deepEqual(pgs.push("UPDATE t SET note = E'it\\'s; DELETE FROM t; --' WHERE id = 1;"), ["UPDATE t SET note = E'it\\'s; DELETE FROM t; --' WHERE id = 1"], "an E'' string keeps its ; and its quote");
  assert.deepEqual(pgs.push('SELECT a$b; SELECT 2;'), ['SELECT a$b', 'SELECT 2'], '$ inside an identifier is no dollar quote');
  assert.deepEqual(pgs.push('CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; DELETE FROM t;'), [], 'inside BEGIN ATOMIC: wait for END');
  assert.deepEqual(pgs.push('END;'), ['CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; DELETE FROM t;\nEND']);
  assert.deepEqual(pgs.push("SELECT 'open"), []);
  assert.equal(pgs.pending, true);
  assert.deepEqual(pgs.push("';"), ["SELECT 'open\n'"]);
  assert.deepEqual(pgs.push('-- only a comment'), []);
  assert.equal(pgs.pending, false, 'a comment-only line leaves nothing pending: a backslash command may follow');
  const my = new StatementSplitter('mysql');
  assert.deepEqual(my.push("SELECT 'a\\';b', 5--1; # c;d"), ["SELECT 'a\\';b', 5--1"], 'MySQL: backslash escapes the quote; --1 is arithmetic; # starts a comment');
  assert.deepEqual(my.push('SELECT `x;y` FROM t;;'), ['SELECT `x;y` FROM t']);
  assert.equal(my.rest(), undefined);
});

test('shell: each statement of a -c text is sent on its own; a text that cannot be cut is not sent', async () => {
  const dir = journal();
  const r = await cli(['shell', '--url', PG_URL, '--journal', dir, '--actor', 'dev4', '-c', "SELECT 1 AS a; SELECT 2 AS b", '-c', "SELECT 'open"]);
  assert.equal(r.code, 1);
  assert.match(r.out, / a\n-+\n 1\n\(1 row\)\n b\n-+\n 2\n\(1 row\)\n/);
  assert.match(r.err, /-c "SELECT 'open": unterminated string: not run/);
  assert.match(r.err, /no --policy: every statement is recorded, but none is blocked/);
  const texts = (await cli(['search', dir, '--actor', 'dev4', '--type', 'db.query', '--json'])).out.trim().split('\n').map((l) => JSON.parse(l).statement.text);
  assert.deepEqual(texts, ['SELECT 1 AS a', 'SELECT 2 AS b']);
  const big = await cli(['shell', '--url', PG_URL, '--journal', journal(), '-c', 'SELECT generate_series(1, 200000) AS n']);
  assert.equal(big.code, 0, big.out.slice(-300));
  assert.match(big.out, /\(200000 rows\)\n$/, 'a result larger than a call has room for arguments');
});

test('shell: Ctrl-C sends nothing further and closes the journal; a lost connection fails the next statement, not the shell', async () => {
  const dir = journal();
  async function* typed(): AsyncIterable<string> {
    yield 'SELECT pg_backend_pid() AS pid;';
    await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGINT');
    yield 'SELECT 2 AS never_sent;';
  }
  const r = await runCli(['shell', '--url', PG_URL, '--journal', dir, '--actor', 'dev5'], { input: typed() });
  assert.equal(r.code, 130);
  assert.match(r.err, /interrupted: closing the journal/);
  const types = (await cli(['search', dir, '--json'])).out.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(!types.some((e) => e.statement?.text?.includes('never_sent')), 'nothing sent after Ctrl-C');
  assert.equal(types.at(-1).type, 'sdk.stop', 'the journal was closed');

  const lostDir = journal();
  const admin = new pg.Client(PG_URL);
  await admin.connect();
  async function* killed(): AsyncIterable<string> {
    yield "SELECT 1 AS before;";
    const [row] = (await admin.query("SELECT pid FROM pg_stat_activity WHERE application_name = '' AND query LIKE 'SELECT 1 AS before%' AND pid <> pg_backend_pid()")).rows;
    if (row) await admin.query('SELECT pg_terminate_backend($1)', [row.pid]);
    await new Promise((r) => setTimeout(r, 100));
    yield 'SELECT 2 AS after;';
  }
  const lost = await runCli(['shell', '--url', PG_URL, '--journal', lostDir, '--actor', 'dev6'], { input: killed() });
  await admin.end();
  assert.equal(lost.code, 1, lost.err);
  assert.match(lost.err, /the connection was lost/);
  assert.match(lost.out, /ERROR|not sent: the connection was lost/);
  const last = (await cli(['search', lostDir, '--json'])).out.trim().split('\n').map((l) => JSON.parse(l)).at(-1);
  assert.equal(last.type, 'sdk.stop');
});

test('shell: no password in messages; dual control and break-glass refused where they cannot mean anything', async () => {
  const bad = await cli(['shell', '--url', 'postgres://u:s3cr/et:x@127.0.0.1:99999/test', '--journal', journal()]);
  assert.equal(bad.code, 2);
  assert.ok(!bad.err.includes('s3cr'), bad.err);
  const input = ['\\approve CHG-1 DEV7 1h', '\\breakglass because', '\\approve CHG-1 carol 999999999d'].join('\n');
  const r = await cli(['shell', '--url', PG_URL, '--journal', journal(), '--actor', 'dev7'], input);
  assert.match(r.out, /the approver must be someone else than you \(dual control\)/);
  assert.match(r.out, /\\breakglass: no --policy, so nothing is blocked/);
  assert.match(r.out, /\\approve needs a ticket, its approver and when it expires/);
});

test('shell connections take one statement per text: the server refuses more, even when the URL asks for multiple statements', async () => {
  const { createAuditor } = await import('@querytrail/core');
  const { openConnection } = await import('../src/shell/db-connection.js');
  const auditor = createAuditor({ service: { name: 'one-per-text' }, journal: false });
  for (const url of [PG_URL, `${MY_URL}?multipleStatements=true`]) {
    const conn = await openConnection(url, auditor, () => undefined);
    try {
      await assert.rejects(conn.query('SELECT 1; SELECT 2'), /multiple commands|SQL syntax/, url);
      assert.deepEqual((await conn.query('SELECT 3')).rows, [[3]]);
    } finally {
      await conn.close();
    }
  }
  await auditor.close();
});
