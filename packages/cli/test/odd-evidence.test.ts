import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Report } from '../src/report/report.js';
import { main } from '../src/main.js';
import { captureIo, runCli } from './support/cli-io.js';

/**
 * search and report on evidence a reviewer can meet but a healthy app rarely writes: merged ORM
 * statements, impersonation, multi-statement text, writes of sensitive columns, damaged, torn,
 * oversized and hostile lines. Hand-written events (no chain): these tests are about reading them.
 */

const root = mkdtempSync(join(tmpdir(), 'qt-cli-odd-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const SOURCE = { sdk: { name: '@querytrail/core', version: '0.1.0' }, service: { name: 'odd', instance_id: 'i' }, host: 'h', pid: 1 };
let ids = 0;

function event(over: Record<string, unknown>): Record<string, unknown> {
  ids += 1;
  return { schema: 'querytrail.event/1', event_id: `e${ids}`, type: 'db.query', time: `2026-12-06T10:00:00.${String(ids).padStart(6, '0')}Z`, source: SOURCE, ...over };
}

/** A journal directory holding one segment with these lines (objects as JSON, strings and bytes as they are). */
function journal(lines: Array<Record<string, unknown> | string | Buffer>, ending = '\n'): string {
  dirs += 1;
  const dir = join(root, `j${dirs}`);
  mkdirSync(dir);
  const parts = lines.map((l) => (Buffer.isBuffer(l) ? l : Buffer.from(typeof l === 'string' ? l : JSON.stringify(l))));
  const joined = parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('\n'), p]));
  writeFileSync(join(dir, 'qt-01a24d6e-0000-7000-8000-000000000001-000001.jsonl'), Buffer.concat([...joined, Buffer.from(ending)]));
  return dir;
}

const cli = (...argv: string[]) => runCli(argv);

async function report(dir: string, ...options: string[]): Promise<Report> {
  const r = await cli('report', dir, '--no-verify', '--format', 'json', ...options);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Report;
}

const users = (access: 'read' | 'write', columns: string[]) => ({ objects: [{ type: 'table', schema: 'public', name: 'users', columns, access }] });
const ssnMatched = { sensitivity: { tags: ['pii'], matched: [{ object: 'public.users', column: 'ssn', rule_id: 'pii', category: 'pii' }] } };

test('report: a merged ORM statement counts for every actor it served; impersonation is its own actor row', async () => {
  const dir = journal([
    event({ actor: { type: 'human', id: 'bob' }, statement: { class: 'read', command: 'SELECT', text: 'SELECT 1' }, result: { outcome: 'success', rows_returned: 1 } }),
    event({
      actor: { type: 'human', id: 'alice' },
      orm: { name: 'prisma', callers: [{ actor_id: 'alice' }, { actor_id: 'bob' }, { actor_id: 'zoe' }] },
      statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM users WHERE id IN ($1, $2)' },
      ...users('read', ['ssn']),
      ...ssnMatched,
      result: { outcome: 'success', rows_returned: 2 },
    }),
    event({ actor: { type: 'human', id: 'alice', impersonator: { type: 'human', id: 'mallory' } }, statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM users' }, ...users('read', ['ssn']), ...ssnMatched, result: { outcome: 'success', rows_returned: 9 } }),
  ]);
  const r = await report(dir);
  const row = (key: string) => r.actors.find((a) => a.actor === key);
  assert.deepEqual([row('human:bob')?.statements, row('human:bob')?.sensitive_reads, row('human:bob')?.sensitive_rows], [2, 1, 2], 'bob: his own statement and the merged one');
  assert.deepEqual([row('human:alice')?.statements, row('human:alice')?.sensitive_rows], [1, 2]);
  assert.equal(row('unknown:zoe')?.statements, 1, 'a caller seen nowhere else keeps an unknown type, not a guessed one');
  assert.deepEqual([row('human:alice via human:mallory')?.statements, row('human:alice via human:mallory')?.sensitive_rows], [1, 9]);
  assert.equal(r.statements.total, 3, 'a merged statement is one statement');
  const ssn = r.sensitive_columns.find((c) => c.column === 'public.users.ssn');
  assert.deepEqual(ssn?.actors, ['human:alice', 'human:alice via human:mallory', 'human:bob', 'unknown:zoe']);
  const mallory = await cli('search', dir, '--actor', 'mallory', '--json');
  assert.equal(mallory.out.trim().split('\n').length, 1, '--actor matches who impersonated');
  assert.match((await cli('search', dir, '--actor', 'mallory')).out, /human:alice \(via mallory\)/);
});

test('report: writes of a sensitive column and failed reads are not counted as reads', async () => {
  const dir = journal([
    event({ actor: { type: 'human', id: 'erin' }, statement: { class: 'write', command: 'UPDATE', text: "UPDATE users SET ssn = 'z'" }, ...users('write', ['ssn']), ...ssnMatched, result: { outcome: 'success', rows_affected: 1 } }),
    event({ actor: { type: 'human', id: 'fay' }, statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM users' }, ...users('read', ['ssn']), ...ssnMatched, result: { outcome: 'failure', error: { code: '42501', message: 'permission denied' } } }),
  ]);
  const r = await report(dir);
  const ssn = r.sensitive_columns.find((c) => c.column === 'public.users.ssn');
  assert.deepEqual([ssn?.reads, ssn?.writes, ssn?.actors], [0, 1, ['human:erin']]);
  const erin = r.actors.find((a) => a.actor === 'human:erin');
  assert.deepEqual([erin?.sensitive_reads, erin?.sensitive_writes], [0, 1]);
  assert.equal(r.failures.items[0]?.error, '42501 permission denied');
});

test('report: losses and chain starts are reported whatever the selection, and the selection is printed', async () => {
  const dir = journal([
    event({ type: 'chain.genesis', genesis: { reason: 'crash_recovery' }, integrity: { chain_id: 'c', seq: 0, prev_hash: '0' } }),
    event({ actor: { type: 'human', id: 'alice' }, statement: { class: 'read', command: 'SELECT', text: 'SELECT 1' }, result: { outcome: 'success' } }),
    event({ type: 'sink.gap', gap: { count: 5000, cause: 'journal queue full' } }),
  ]);
  const r = await report(dir, '--actor', 'alice');
  assert.deepEqual([r.gaps.total, r.gaps.records_lost, r.chain_starts.total], [1, 5000, 1]);
  assert.deepEqual(r.actors.map((a) => a.actor), ['human:alice']);
  const text = await cli('report', dir, '--no-verify', '--actor', 'alice');
  assert.match(text.out, /selection: --actor alice/);
  assert.match(text.out, /5000 record\(s\) lost in all/);
  assert.match(text.out, /NOT CHECKED \(--no-verify\)/);
  const later = await report(dir, '--since', '2026-12-07');
  assert.equal(later.gaps.total, 0, 'the period still applies to losses');
});

test('search: --command finds each statement of a multi-statement text; --decision allow finds plain allows', async () => {
  const dir = journal([
    event({ type: 'db.query.blocked', actor: { type: 'human', id: 'bob' }, statement: { class: 'write', command: 'SELECT; DELETE', text: 'SELECT 1; DELETE FROM users' }, result: { outcome: 'blocked' }, policy: { decision: 'block', mode: 'enforce' } }),
    event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT 2' }, result: { outcome: 'success' } }),
    event({ type: 'sdk.start' }),
  ]);
  assert.match((await cli('search', dir, '--command', 'delete')).out, /SELECT 1; DELETE FROM users/);
  const allow = await cli('search', dir, '--decision', 'allow');
  assert.equal(allow.out.trim().split('\n').length, 1);
  assert.match(allow.out, /SELECT 2/, 'a statement without a policy field was a plain allow; sdk.start has no decision');
});

test('search: a table or column named with its schema matches an object recorded without one', async () => {
  const dir = journal([
    event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM users' }, objects: [{ type: 'table', name: 'users', columns: ['ssn'], access: 'read' }], result: { outcome: 'success' } }),
    event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM other.users' }, objects: [{ type: 'table', schema: 'other', name: 'users', columns: ['ssn'], access: 'read' }], result: { outcome: 'success' } }),
  ]);
  const table = await cli('search', dir, '--table', 'public.users', '--json');
  assert.deepEqual(table.out.trim().split('\n').map((l) => JSON.parse(l).statement.text), ['SELECT ssn FROM users']);
  const column = await cli('search', dir, '--column', 'public.users.ssn', '--json');
  assert.deepEqual(column.out.trim().split('\n').map((l) => JSON.parse(l).statement.text), ['SELECT ssn FROM users']);
});

test('text output: outcome before policy verdict; control characters from the evidence are escaped, never printed', async () => {
  const dir = journal([
    event({ statement: { class: 'write', command: 'DELETE', text: 'DELETE FROM t' }, result: { outcome: 'failure', error: { code: '42P01', message: 'x' } }, policy: { decision: 'block', mode: 'monitor', rule_id: 'd' } }),
    event({ actor: { type: 'human', id: 'mallory\n2026-12-06T10:00:00Z  db.query  human:alice  ok  DROP TABLE users\u001b[8m' }, statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM users' }, result: { outcome: 'success' } }),
  ]);
  const r = await cli('search', dir);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 2, 'one line per event: a newline in an actor id cannot forge another');
  assert.match(lines[0]!, /FAILED 42P01, would-block/);
  assert.ok(!r.out.includes('\u001b'), 'no escape sequence reaches the terminal');
  assert.match(lines[1]!, /human:mallory\\x0a2026.*\\x1b\[8m/);
  const md = await cli('report', dir, '--no-verify', '--format', 'markdown');
  assert.ok(!md.out.includes('\u001b') && !/^2026-12-06T10:00:00Z {2}db\.query/m.test(md.out));
});

test('damaged evidence is named, whatever the selection: torn tail, truncated line, oversized line, not UTF-8, wrong shapes', async () => {
  const blocked = event({ type: 'db.query.blocked', actor: { type: 'human', id: 'carol' }, statement: { class: 'write', command: 'DELETE', text: 'DELETE FROM t' }, result: { outcome: 'blocked' } });
  const whole = JSON.stringify(blocked);
  const dir = journal(
    [
      whole.slice(0, 60), // cut short: the byte prefilter must not hide it
      `{"schema":"querytrail.event/1","event_id":"x","type":"db.query","time":"2026-12-06T10:00:00Z","actor":"carol"}`,
      Buffer.concat([Buffer.from('{"schema":"querytrail.event/1","event_id":"y","type":"db.query","time":"2026-12-06T10:00:00Z","statement":{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]),
      event({ type: 'sink.gap', gap: { cause: 'no count' } }),
      whole.replace('"event_id":"', '"event_id":"z'),
      'x'.repeat(17 << 20),
      JSON.stringify(event({ type: 'sdk.stop' })),
    ],
    '',
  );
  // search with a byte prefilter still reads every line that is not whole (cut, oversized, torn)...
  const r = await cli('search', dir, '--outcome', 'blocked');
  assert.equal(r.code, 0);
  assert.equal(r.out.trim().split('\n').length, 1, 'the whole blocked record is found');
  assert.match(r.err, /:1: not JSON/);
  assert.match(r.err, /:6: not JSON/);
  assert.match(r.err, /ends in \d+ bytes without a newline .*: not read/);
  // ...and report reads every line: each kind of damage is named.
  const full = await cli('report', dir, '--no-verify', '--format', 'json');
  assert.match(full.err, /:2: not a well-formed querytrail event: actor is not an object/);
  assert.match(full.err, /:3: not UTF-8/);
  assert.match(full.err, /:4: not a well-formed querytrail event: gap.count is not a number/);
  const rep = JSON.parse(full.out) as Report;
  assert.equal(rep.unreadable_lines, 5);
  assert.equal(rep.partial_tails, 1);
  assert.equal(rep.blocked.total, 1);
});

test('the same segment named twice is read once; a pipe is refused; counts and dates are checked', async () => {
  const dir = journal([event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT 1' }, result: { outcome: 'success' } })]);
  const twice = await cli('search', dir, join(dir, 'qt-01a24d6e-0000-7000-8000-000000000001-000001.jsonl'), '--json');
  assert.equal(twice.out.trim().split('\n').length, 1);
  const pipe = await cli('search', '/dev/stdin');
  assert.equal(pipe.code, 2);
  assert.match(pipe.err, /not a regular file or directory/);
  for (const [option, value] of [
    ['--limit', '1e1'],
    ['--limit', ''],
    ['--since', '2026-02-30'],
    ['--type', 'db.querry'],
  ] as const) {
    const r = await cli('search', dir, option, value);
    assert.equal(r.code, 2, `${option} ${value}`);
    assert.match(r.err, new RegExp(`${option} "${value.replace('.', '\\.')}"`));
  }
  assert.equal((await cli('tail', dir, '-n', '')).code, 2);
  assert.equal((await cli('report', dir, '--top', '0x10')).code, 2);
});

test('report: a merged caller is matched by exact id or left unknown; an id that looks like impersonation is quoted', async () => {
  const select = (over: Record<string, unknown>) =>
    event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT ssn FROM users' }, ...users('read', ['ssn']), ...ssnMatched, result: { outcome: 'success', rows_returned: 1 }, ...over });
  const dir = journal([
    event({ actor: { type: 'service', id: 'team:bob' }, statement: { class: 'read', command: 'SELECT', text: 'SELECT 1' }, result: { outcome: 'success' } }),
    select({ actor: { type: 'human', id: 'alice' }, orm: { name: 'prisma', callers: [{ actor_id: 'alice' }, { actor_id: 'bob' }] } }),
    select({ actor: { type: 'human', id: 'alice via human:mallory' } }),
    select({ actor: { type: 'human', id: 'alice', impersonator: { type: 'human', id: 'mallory' } } }),
  ]);
  const r = await report(dir);
  assert.deepEqual(r.sensitive_columns[0]?.actors, ['human:"alice via human:mallory"', 'human:alice', 'human:alice via human:mallory', 'unknown:bob']);
  assert.deepEqual(
    r.actors.map((a) => [a.actor, a.statements]).sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
    [
      ['human:"alice via human:mallory"', 1],
      ['human:alice', 1],
      ['human:alice via human:mallory', 1],
      ['service:team:bob', 1],
      ['unknown:bob', 1],
    ],
  );
});

test('report: a column only filtered on in an UPDATE is read, not written; the column set is written', async () => {
  const dir = journal([
    event({
      actor: { type: 'human', id: 'u1' },
      statement: { class: 'write', command: 'UPDATE', text: "UPDATE users SET email = 'x' WHERE ssn = '1'" },
      objects: [
        { type: 'table', schema: 'public', name: 'users', columns: ['email'], access: 'write' },
        { type: 'table', schema: 'public', name: 'users', columns: ['ssn'], access: 'read' },
      ],
      sensitivity: { tags: ['pii'], matched: [ssnMatched.sensitivity.matched[0]!, { object: 'public.users', column: 'email', rule_id: 'pii', category: 'pii' }] },
      result: { outcome: 'success', rows_affected: 1 },
    }),
  ]);
  const r = await report(dir);
  const col = (c: string) => r.sensitive_columns.find((x) => x.column === `public.users.${c}`);
  assert.deepEqual([col('ssn')?.reads, col('ssn')?.writes, col('email')?.reads, col('email')?.writes], [1, 0, 0, 1]);
});

test('report: --top keeps the oldest items even when an unfinished attempt is found last; sub-millisecond bounds hold', async () => {
  const destructive = (over: Record<string, unknown>) => event({ statement: { class: 'write', command: 'DELETE', text: 'DELETE FROM t', destructive: true }, ...over });
  const attempt = destructive({ type: 'db.query.attempt', time: '2026-12-06T09:00:00.000001Z' });
  const dir = journal([
    attempt,
    destructive({ time: '2026-12-06T09:00:01.000000Z', result: { outcome: 'success' } }),
    destructive({ time: '2026-12-06T09:00:02.000000Z', result: { outcome: 'success' } }),
  ]);
  const r = await report(dir, '--top', '2');
  assert.deepEqual(
    r.destructive.items.map((i) => i.outcome),
    ['unknown', 'success'],
  );
  const before = await cli('search', dir, '--until', '2026-12-06T09:00:00.000001Z');
  assert.equal(before.code, 1, 'until is exclusive to the microsecond');
  const at = await cli('search', dir, '--since', '2026-12-06T09:00:00.000001Z', '--until', '2026-12-06T09:00:00.000002Z');
  assert.equal(at.out.trim().split('\n').length, 1);
  const twice = await cli('search', dir, '--text', 'a', '--text', 'b');
  assert.match(twice.err, /--text given 2 times/);
});

test('report: segments named out of order are read in chain order; a directory and a file in it are verified once', async () => {
  const dir = journal([]);
  const seg = (n: number) => join(dir, `qt-01a24d6e-0000-7000-8000-000000000002-00000${n}.jsonl`);
  const attempt = event({ type: 'db.query.attempt', statement: { class: 'read', command: 'SELECT', text: 'SELECT 1' } });
  writeFileSync(seg(1), `${JSON.stringify(attempt)}\n`);
  writeFileSync(seg(2), `${JSON.stringify(event({ attempt_id: attempt.event_id, statement: { class: 'read', command: 'SELECT', text: 'SELECT 1' }, result: { outcome: 'success' } }))}\n`);
  const r = JSON.parse((await cli('report', seg(2), seg(1), '--no-verify', '--format', 'json')).out) as Report;
  assert.deepEqual([r.statements.total, r.unfinished.total], [1, 0]);
  const real = mkdtempSync(join(tmpdir(), 'qt-cli-dup-'));
  after(() => rmSync(real, { recursive: true, force: true }));
  const { createAuditor } = await import('@querytrail/core');
  const auditor = createAuditor({ service: { name: 'dup' }, journal: { dir: real } });
  auditor.begin({ text: 'SELECT 1', db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsReturned: 1 });
  await auditor.close();
  const { readdirSync } = await import('node:fs');
  const file = join(real, readdirSync(real).find((f) => /-\d{6}\.jsonl$/.test(f))!);
  const both = await cli('report', real, file, '--format', 'json');
  assert.equal(both.code, 0, both.out);
  assert.equal((JSON.parse(both.out) as Report).integrity.ok, true);
});

test('tail -f on files: one removed, the others go on; one replaced is said and read from its start', async () => {
  const { appendFileSync, renameSync, unlinkSync } = await import('node:fs');
  const a = journal([event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT a0' } })]);
  const b = journal([event({ statement: { class: 'read', command: 'SELECT', text: 'SELECT b0' } })]);
  const fa = join(a, 'qt-01a24d6e-0000-7000-8000-000000000001-000001.jsonl');
  const fb = join(b, 'qt-01a24d6e-0000-7000-8000-000000000001-000001.jsonl');
  const controller = new AbortController();
  const io = captureIo({ signal: controller.signal });
  const running = main(['tail', fa, fb, '-f', '-n', '0', '--interval', '10'], io);
  const line = (text: string) => `${JSON.stringify(event({ statement: { class: 'read', command: 'SELECT', text } }))}\n`;
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 300 && !re.test(io.stdout + io.stderr); i += 1) await new Promise((r) => setTimeout(r, 10));
    assert.match(io.stdout + io.stderr, re);
  };
  try {
    await new Promise((r) => setTimeout(r, 50));
    unlinkSync(fa);
    appendFileSync(fb, line('SELECT b1'));
    await waitFor(/SELECT b1/);
    const replacement = join(b, 'next.tmp');
    writeFileSync(replacement, line('SELECT r1') + line('SELECT r2') + line('SELECT r3'));
    renameSync(replacement, fb);
    await waitFor(/SELECT r3/);
  } finally {
    controller.abort();
  }
  assert.equal(await running, 0);
  assert.match(io.stderr, /was replaced: reading it again from the start/);
  assert.deepEqual(
    io.stdout.trim().split('\n').map((l) => l.replace(/.*(SELECT \w+).*/, '$1')),
    ['SELECT b1', 'SELECT r1', 'SELECT r2', 'SELECT r3'],
  );
});
