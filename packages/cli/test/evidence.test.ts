import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAuditor, loadAnalyzers, type PolicyInput, QueryBlockedError, runWithContext } from '@querytrail/core';
import pg from 'pg';
import { main } from '../src/main.js';
import { captureIo, runCli } from './support/cli-io.js';
import type { Report } from '../src/report/report.js';

await loadAnalyzers();

/**
 * search, tail and report on evidence a real auditor wrote about real PostgreSQL traffic: four
 * actors, a sensitive read, a blocked DELETE, a break-glass UPDATE, a failure and a statement sent
 * outside any context; checked against the journal's own bytes.
 */

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const table = `qt_cli_${randomBytes(4).toString('hex')}`;
const keys = generateKeyPairSync('ed25519');
const never = { id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-01T01:00:00Z' };
const policy: PolicyInput = {
  version: 1,
  windows: [never],
  breakGlass: { allowed: true },
  sensitive: [{ id: 'pii', category: 'pii', columns: [`*.${table}.ssn`, `*.${table}.email`] }],
};

const cli = (...argv: string[]) => runCli(argv);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client(PG);
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A directory removed when the calling test ends (call it inside a test). */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every stored line of the journal's segments, as text. */
function storedLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^qt-.*-\d{6}\.jsonl$/.test(f))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
}

const human = (id: string) => ({ actor: { type: 'human' as const, id } });

let dir: string;
let publicKeyFile: string;

before(async () => {
  await admin(`CREATE TABLE ${table} (id serial PRIMARY KEY, email text, ssn text, note text)`);
  await admin(`INSERT INTO ${table} (email, ssn, note) VALUES ('a@x', '111', 'n1'), ('b@x', '222', 'n2'), ('c@x', '333', 'n3')`);
  dir = mkdtempSync(join(tmpdir(), 'qt-cli-evidence-'));
  publicKeyFile = join(dir, '..', `${table}.pub.pem`);
  writeFileSync(publicKeyFile, keys.publicKey.export({ type: 'spki', format: 'pem' }));

  const auditor = createAuditor({ service: { name: 'cli-evidence', env: 'test' }, journal: { dir, mode: 'auto', signingKey: keys.privateKey }, policy });
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 2 }));
  await pool.query('SELECT 1 AS outside_any_context');
  // The first statement starts the catalog's introspection; wait for it, so SELECT * resolves to columns.
  await auditor.refreshCatalog();
  await runWithContext(human('alice'), async () => {
    await pool.query(`SELECT * FROM ${table}`);
    await pool.query(`SELECT email FROM ${table} WHERE id = $1`, [1]);
    await assert.rejects(pool.query(`SELECT * FROM ${table}_missing`), /does not exist/);
  });
  await runWithContext({ ...human('bob'), request: { id: 'req-bob-1' } }, async () => {
    await pool.query(`UPDATE ${table} SET note = $1 WHERE id = $2`, ['x', 1]);
    await assert.rejects(pool.query(`DELETE FROM ${table}`), QueryBlockedError);
  });
  await runWithContext({ ...human('carol'), breakGlass: { reason: 'INC-42 bad notes' } }, () => pool.query(`UPDATE ${table} SET note = 'fixed'`));
  await pool.end();
  await auditor.close();
});

after(async () => {
  await admin(`DROP TABLE IF EXISTS ${table}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(publicKeyFile, { force: true });
});

describe('querytrail search', () => {
  test('--json prints matching events byte for byte as stored, in journal order', async () => {
    const r = await cli('search', dir, '--actor', 'bob', '--type', 'db.query*', '--json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    const stored = storedLines(dir);
    for (const l of lines) assert.ok(stored.includes(l), `not a stored line: ${l}`);
    const events = lines.map((l) => JSON.parse(l));
    assert.ok(events.every((e) => e.actor.id === 'bob'));
    assert.deepEqual(
      events.filter((e) => e.type !== 'db.query.attempt').map((e) => [e.type, e.statement.command]),
      [
        ['db.query', 'UPDATE'],
        ['db.query.blocked', 'DELETE'],
      ],
    );
    const seqs = events.map((e) => e.integrity.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  });

  test('sensitive reads by column and tag; text output names actor and verdict', async () => {
    const ssn = await cli('search', dir, '--column', `${table}.ssn`, '--type', 'db.query', '--json');
    assert.equal(ssn.code, 0, ssn.err);
    const byColumn = ssn.out.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(byColumn.map((e) => [e.actor.id, e.statement.text]), [['alice', `SELECT * FROM ${table}`]]);
    const tagged = await cli('search', dir, '--tag', 'pii', '--type', 'db.query', '--json');
    assert.equal(tagged.out.trimEnd().split('\n').length, 2, tagged.out);
    const blocked = await cli('search', dir, '--outcome', 'blocked');
    assert.equal(blocked.code, 0);
    assert.match(blocked.out, new RegExp(`db\\.query\\.blocked +human:bob +BLOCKED +DELETE FROM ${table}`));
    assert.equal(blocked.out.trimEnd().split('\n').length, 1);
  });

  test('request, destructive, text and time selections; --limit; no match exits 1', async () => {
    const req = await cli('search', dir, '--request', 'req-bob-1', '--type', 'db.query', '--json');
    assert.deepEqual(req.out.trimEnd().split('\n').map((l) => JSON.parse(l).statement.command), ['UPDATE']);
    const destructive = await cli('search', dir, '--destructive', '--type', 'db.query', '--json');
    assert.deepEqual(destructive.out.trimEnd().split('\n').map((l) => JSON.parse(l).actor.id), ['carol']);
    const text = await cli('search', dir, '--text', 'OUTSIDE_ANY', '--json');
    assert.equal(JSON.parse(text.out).actor, undefined);
    const limited = await cli('search', dir, '--limit', '2', '--json');
    assert.equal(limited.out.trimEnd().split('\n').length, 2);
    const future = await cli('search', dir, '--since', '2999-01-01');
    assert.equal(future.code, 1);
    assert.equal(future.out, '');
    const past = await cli('search', dir, '--until', '2000-01-01T00:00:00Z');
    assert.equal(past.code, 1);
    const recent = await cli('search', dir, '--since', '1h', '--actor', 'carol', '--type', 'policy.override');
    assert.equal(recent.code, 0);
    assert.match(recent.out, /policy\.override +human:carol +OVERRIDE/);
  });

  test('--format ocsf: Datastore Activity objects for datastore events only', async () => {
    const r = await cli('search', dir, '--actor', 'alice', '--format', 'ocsf');
    assert.equal(r.code, 0, r.err);
    const objects = r.out.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.ok(objects.length >= 3);
    assert.ok(objects.every((o) => o.class_uid === 6005));
    const none = await cli('search', dir, '--type', 'sdk.start', '--format', 'ocsf');
    assert.equal(none.code, 1, 'sdk.start has no OCSF form: nothing printed, so nothing matched');
  });

  test('bad input names the option, the value and what is expected', async () => {
    const outcome = await cli('search', dir, '--outcome', 'nope');
    assert.equal(outcome.code, 2);
    assert.match(outcome.err, /--outcome "nope": expected one of success, failure, blocked/);
    const since = await cli('search', dir, '--since', 'yesterday');
    assert.equal(since.code, 2);
    assert.match(since.err, /--since "yesterday": expected an RFC 3339 time/);
    const zone = await cli('search', dir, '--since', '2026-12-06T09:00:00');
    assert.equal(zone.code, 2, 'a time without a zone is refused, not read in the local zone');
    const order = await cli('search', dir, '--since', '2026-12-06', '--until', '2026-12-05');
    assert.match(order.err, /is not before --until/);
    const missing = await cli('search', join(dir, 'nope'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope: no such file or directory/);
    const empty = await cli('search', tempDir('qt-cli-empty-'));
    assert.match(empty.err, /no journal segments/);
  });

  test('a line that is not an event is named on stderr with file and line, and the rest is still searched', async () => {
    const copy = tempDir('qt-cli-damaged-');
    cpSync(dir, copy, { recursive: true });
    const segment = readdirSync(copy).find((f) => /-\d{6}\.jsonl$/.test(f))!;
    appendFileSync(join(copy, segment), 'this is not json\n{"type":"x"}\n');
    // --command compares without case, so it is no byte prefilter: every line is read and both bad lines are met.
    const r = await cli('search', copy, '--command', 'delete');
    assert.equal(r.code, 0);
    assert.match(r.err, new RegExp(`${segment}:\\d+: not JSON`));
    assert.match(r.err, /not a querytrail event/);
    assert.match(r.err, /run 'querytrail verify'/);
    assert.match(r.out, /BLOCKED/);
  });
});

describe('querytrail report', () => {
  test('--format json: integrity, blocked, overrides, destructive, sensitive columns, actors, failures', async () => {
    const r = await cli('report', dir, '--format', 'json', '--public-key', publicKeyFile);
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out) as Report;
    assert.equal(report.schema, 'querytrail.report/1');
    assert.equal(report.integrity.checked, true);
    assert.equal(report.integrity.ok, true);
    assert.equal(report.integrity.records, storedLines(dir).length);
    assert.deepEqual(report.blocked.items.map((i) => [i.actor, i.summary.split(' ')[0]]), [['human:bob', 'DELETE']]);
    assert.deepEqual(report.overrides.items.map((i) => i.actor), ['human:carol']);
    assert.match(report.overrides.items[0]!.reason ?? '', /INC-42/);
    assert.deepEqual(report.destructive.items.map((i) => i.actor), ['human:carol']);
    assert.deepEqual(report.failures.items.map((i) => i.actor), ['human:alice']);
    assert.match(report.failures.items[0]!.error ?? '', /^42P01 /);
    const ssn = report.sensitive_columns.find((c) => c.column.endsWith(`${table}.ssn`));
    const email = report.sensitive_columns.find((c) => c.column.endsWith(`${table}.email`));
    assert.deepEqual([ssn?.reads, ssn?.rows_returned, ssn?.writes, ssn?.actors], [1, 3, 0, ['human:alice']]);
    assert.deepEqual([email?.reads, email?.rows_returned, email?.writes, email?.actors], [2, 4, 0, ['human:alice']]);
    const alice = report.actors.find((a) => a.actor === 'human:alice');
    assert.deepEqual([alice?.statements, alice?.sensitive_reads, alice?.sensitive_rows, alice?.failed], [3, 2, 4, 1]);
    const bob = report.actors.find((a) => a.actor === 'human:bob');
    assert.deepEqual([bob?.statements, bob?.blocked], [2, 1]);
    assert.equal(report.statements.without_actor, 1);
    assert.equal(report.unfinished.total, 0);
    assert.equal(report.statements.not_sent_as_recorded, 0);
    assert.equal(report.gaps.total, 0);
    assert.ok((report.alerts.by_kind.block ?? 0) >= 1 && (report.alerts.by_kind.override ?? 0) >= 1);
  });

  test('a selection narrows the report; text and Markdown carry the same sections', async () => {
    const r = await cli('report', dir, '--actor', 'bob', '--format', 'json', '--no-verify');
    const report = JSON.parse(r.out) as Report;
    assert.equal(report.integrity.checked, false);
    assert.deepEqual(report.actors.map((a) => a.actor), ['human:bob']);
    assert.deepEqual(report.selection, { actor: ['bob'] });
    const md = await cli('report', dir, '--format', 'markdown');
    assert.equal(md.code, 0);
    assert.match(md.out, /^## Blocked statements \(1\)$/m);
    assert.match(md.out, /^\| time \| actor \| outcome \| what \| why \| event\\_id \|$/m);
    const text = await cli('report', dir);
    assert.match(text.out, /^Break-glass overrides \(1\)$/m);
    assert.match(text.out, /statements with no actor \(sent outside any audit context\): 1/);
    assert.match(text.out, /^ {2}valid: \d+ records in 1 chain\(s\)/m);
  });

  test('a journal that ends after the attempt of a sent statement (a crash): the statement is reported, outcome unknown', async () => {
    const copy = tempDir('qt-cli-crashed-');
    const lines = storedLines(dir);
    const at = lines.findIndex((l) => l.includes('"db.query.attempt"') && l.includes('"carol"'));
    assert.ok(at > 0, 'carol\'s break-glass UPDATE is destructive: auto mode wrote its attempt first');
    const segment = readdirSync(dir).find((f) => /-\d{6}\.jsonl$/.test(f))!;
    writeFileSync(join(copy, segment), `${lines.slice(0, at + 1).join('\n')}\n`);
    const r = await cli('report', copy, '--no-verify', '--format', 'json');
    const report = JSON.parse(r.out) as Report;
    assert.deepEqual(report.unfinished.items.map((i) => [i.actor, i.outcome, i.type]), [['human:carol', 'unknown', 'db.query.attempt']]);
    assert.deepEqual(report.destructive.items.map((i) => [i.actor, i.outcome]), [['human:carol', 'unknown']]);
    assert.equal(report.actors.find((a) => a.actor === 'human:carol')?.unfinished, 1);
    const text = await cli('report', copy, '--no-verify');
    assert.match(text.out, /^Sent, outcome never recorded \(1\)$/m);
  });

  test('a pool record for text an app wrapper changed (QT_ERR_NOT_SENT_AS_RECORDED) is not a second statement', async () => {
    const live = tempDir('qt-cli-wrapped-');
    const auditor = createAuditor({ service: { name: 'wrapped' }, journal: { dir: live, mode: 'sync' }, policy: { ...policy, mode: 'monitor' } });
    const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 1 }));
    // An application's own wrapper that tags every statement it sends.
    pool.on('connect', (client: pg.PoolClient) => {
      const query = client.query;
      client.query = function (this: pg.PoolClient, text: unknown, ...rest: unknown[]) {
        return (query as (...a: unknown[]) => unknown).call(this, typeof text === 'string' ? `/* app */ ${text}` : text, ...rest);
      } as typeof client.query;
    });
    await pool.query('SELECT 1');
    await auditor.refreshCatalog();
    await runWithContext(human('zed'), async () => {
      await pool.query(`SELECT ssn FROM ${table}`);
      await pool.query(`DELETE FROM ${table} WHERE note = 'none such'`);
      await pool.query(`UPDATE ${table} SET note = note`);
    });
    await pool.end();
    await auditor.close();
    const notSent = storedLines(live).filter((l) => l.includes('QT_ERR_NOT_SENT_AS_RECORDED')).length;
    assert.ok(notSent >= 3, `the pool wrote its own records for the changed text (${notSent})`);
    const report = JSON.parse((await cli('report', live, '--format', 'json')).out) as Report;
    assert.equal(report.statements.not_sent_as_recorded, notSent);
    const zed = report.actors.find((a) => a.actor === 'human:zed');
    assert.deepEqual([zed?.statements, zed?.failed, zed?.destructive, zed?.sensitive_reads], [3, 0, 1, 1]);
    assert.deepEqual(report.would_block.items.map((i) => i.summary.split(' ')[0]), ['UPDATE']);
    assert.equal(report.failures.total, 0);
  });

  test('altered evidence: the report says INVALID and exits 1', async () => {
    const copy = tempDir('qt-cli-altered-');
    cpSync(dir, copy, { recursive: true });
    const segment = join(copy, readdirSync(copy).find((f) => /-\d{6}\.jsonl$/.test(f))!);
    writeFileSync(segment, readFileSync(segment, 'utf8').replace('"bob"', '"eve"'));
    const r = await cli('report', copy, '--public-key', publicKeyFile);
    assert.equal(r.code, 1);
    assert.match(r.out, /INVALID: \d+ invalid finding\(s\)/);
    assert.match(r.out, /INVALID hash_mismatch/);
  });
});

describe('querytrail tail', () => {
  test('-n prints the last N events as stored', async () => {
    const r = await cli('tail', dir, '-n', '3', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.out.trimEnd().split('\n'), storedLines(dir).slice(-3));
    const filtered = await cli('tail', dir, '-n', '1', '--actor', 'alice', '--type', 'db.query', '--json');
    assert.match(JSON.parse(filtered.out).statement.text, /_missing/);
  });

  test('-f follows the journal as it grows, across a new chain in the same directory', async () => {
    const live = tempDir('qt-cli-follow-');
    const first = createAuditor({ service: { name: 'follow' }, journal: { dir: live, mode: 'sync' } });
    const pool1 = first.instrumentPg(new pg.Pool({ ...PG, max: 1 }));
    await runWithContext(human('dave'), () => pool1.query('SELECT 1 AS before_tail'));
    const controller = new AbortController();
    const io = captureIo({ signal: controller.signal });
    // Sync mode writes a statement's completion after its result: wait until it is on disk, so it is
    // there before tail starts (and -n 0 must leave it out).
    for (let i = 0; i < 500 && !storedLines(live).some((l) => l.includes('"db.query"') && l.includes('before_tail')); i += 1) await new Promise((r) => setTimeout(r, 10));
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 500 && !re.test(io.stdout); i += 1) await new Promise((r) => setTimeout(r, 10));
      assert.match(io.stdout, re);
    };
    const running = main(['tail', live, '-f', '-n', '0', '--interval', '20', '--type', 'db.query', '--actor-type', 'human'], io);
    try {
      await runWithContext(human('dave'), () => pool1.query('SELECT 2 AS while_tailing'));
      await waitFor(/while_tailing/);
      await pool1.end();
      await first.close();
      const second = createAuditor({ service: { name: 'follow' }, journal: { dir: live, mode: 'sync' } });
      const pool2 = second.instrumentPg(new pg.Pool({ ...PG, max: 1 }));
      await runWithContext(human('erin'), () => pool2.query('SELECT 3 AS next_chain'));
      await waitFor(/next_chain/);
      await pool2.end();
      await second.close();
    } finally {
      controller.abort();
    }
    assert.equal(await running, 0);
    assert.doesNotMatch(io.stdout, /before_tail/, '-n 0 prints nothing that was there before');
    assert.match(io.stdout, /human:dave .*SELECT 2 AS while_tailing/);
    assert.match(io.stdout, /human:erin .*SELECT 3 AS next_chain/);
    assert.equal(io.stdout.trimEnd().split('\n').length, 2, io.stdout);
  });
});
