// Crash safety of sync mode (DESIGN.md "Delivery modes", "Integrity"; docs/integrity.md).
//
// 1. kill -9 under load: a child process runs concurrent INSERTs through an instrumented pool with the
//    journal in sync mode and is SIGKILLed at a random moment. Every row the server committed must have
//    its db.query.attempt record in the journal ("nothing the database executed is missing"). Then an
//    auditor restarts on the same directory: a torn last line is set aside, the new chain's genesis says
//    why and links to the old chain's last complete record, and the verifier finds nothing INVALID.
// 2. A torn line never hides an authenticated record: cutting a signed journal inside a record a
//    checkpoint covers is reported INVALID after recovery, not tidied away as a crash.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test, type TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  createAuditor,
  hashLine,
  listSegments,
  type QuerytrailEvent,
  type TrustedKey,
  trustedKey,
  type VerifyReport,
  verifyJournal,
} from '@querytrail/core';
import { tempDir } from '../support/temp-dir.js';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const ITERATIONS = 3;

// ---- journal reading (raw bytes, as the verifier sees them) ------------------------------------

interface SegmentBytes {
  file: string;
  path: string;
  /** Complete lines, without their newline. */
  lines: Buffer[];
  /** Bytes after the last newline: a torn write, never a record. */
  torn: Buffer | undefined;
  /** Length up to and including the last newline. */
  completeBytes: number;
}

function readSegments(dir: string): SegmentBytes[] {
  return listSegments(dir).map(({ file }) => {
    const path = join(dir, file);
    const buf = readFileSync(path);
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      lines.push(buf.subarray(start, nl));
      start = nl + 1;
    }
    return { file, path, lines, torn: start < buf.length ? buf.subarray(start) : undefined, completeBytes: start };
  });
}

function records(segments: SegmentBytes[]): QuerytrailEvent[] {
  return segments.flatMap((s) => s.lines.map((l) => JSON.parse(l.toString('utf8')) as QuerytrailEvent));
}

function invalid(report: VerifyReport) {
  return report.findings.filter((f) => f.verdict === 'INVALID');
}

// ---- the databases, seen from outside (uninstrumented connections) -------------------------------

interface Target {
  name: string;
  system: 'mariadb' | 'postgresql';
  create(table: string): Promise<void>;
  markers(table: string): Promise<string[]>;
  /** How many of these server sessions still exist. */
  liveSessions(ids: number[]): Promise<number>;
  drop(table: string): Promise<void>;
}

async function onMaria<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function onPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const MARIADB: Target = {
  name: 'MariaDB (mysql2)',
  system: 'mariadb',
  create: (t) =>
    onMaria(async (c) => {
      await c.query(`CREATE TABLE ${t} (id BIGINT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(32) NOT NULL UNIQUE) ENGINE=InnoDB`);
    }),
  markers: (t) =>
    onMaria(async (c) => {
      const [rows] = await c.query(`SELECT marker FROM ${t}`);
      return (rows as { marker: string }[]).map((r) => r.marker);
    }),
  liveSessions: (ids) =>
    ids.length === 0
      ? Promise.resolve(0)
      : onMaria(async (c) => {
          const [rows] = await c.query('SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id IN (?)', [ids]);
          return Number((rows as { n: number }[])[0]!.n);
        }),
  drop: (t) =>
    onMaria(async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${t}`);
    }),
};

const POSTGRES: Target = {
  name: 'PostgreSQL (pg)',
  system: 'postgresql',
  create: (t) =>
    onPg(async (c) => {
      await c.query(`CREATE TABLE ${t} (id bigserial PRIMARY KEY, marker text NOT NULL UNIQUE)`);
    }),
  markers: (t) => onPg(async (c) => (await c.query<{ marker: string }>(`SELECT marker FROM ${t}`)).rows.map((r) => r.marker)),
  liveSessions: (ids) =>
    onPg(async (c) => Number((await c.query<{ n: string }>('SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])', [ids])).rows[0]!.n)),
  drop: (t) =>
    onPg(async (c) => {
      await c.query(`DROP TABLE IF EXISTS ${t}`);
    }),
};

const created: { target: Target; table: string }[] = [];
after(async () => {
  for (const { target, table } of created) await target.drop(table).catch(() => {});
});

// ---- the child ----------------------------------------------------------------------------------

interface Run {
  /** Completed INSERTs the child had reported when it was killed. */
  progress: number;
  sessions: number[];
  target: number;
  delayMs: number;
}

/** Starts the child, waits for `target` completed INSERTs plus `delayMs`, SIGKILLs it. */
function runAndKill(system: Target['system'], dir: string, table: string, key: KeyObject | undefined, target: number, delayMs: number): Promise<Run> {
  const env = { ...process.env };
  delete env.QT_CRASH_SIGNING_KEY;
  if (key) env.QT_CRASH_SIGNING_KEY = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  // NODE_OPTIONS from the test runner (--test…) must not reach the child.
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD, system, dir, table], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise<Run>((resolve, reject) => {
    const sessions: number[] = [];
    let progress = 0;
    let ready = false;
    let killed = false;
    let stderr = '';
    let pending = '';
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child did not reach ${target} INSERTs within 25 s (ready=${ready}, progress=${progress})\n${stderr}`));
    }, 25_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [tag, n] = line.split(' ');
        if (tag === 'READY') ready = true;
        else if (tag === 'C') sessions.push(Number(n));
        else if (tag === 'P') progress = Number(n);
      }
      if (!killed && ready && progress >= target) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal === 'SIGKILL' && killed) resolve({ progress, sessions, target, delayMs });
      else reject(new Error(`child exited on its own (code ${code}, signal ${signal}) before the kill\n${stderr}`));
    });
  });
}

/** After the kill, the server may still be finishing statements the child sent: wait for its sessions to end. */
async function waitForSessionsGone(target: Target, ids: number[]): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const live = await target.liveSessions(ids);
    if (live === 0) return;
    if (Date.now() > until) throw new Error(`${live} server sessions of the killed child are still open after 10 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// ---- one crash + restart ------------------------------------------------------------------------

async function crashIteration(t: TestContext, target: Target, iteration: number): Promise<void> {
  const signed = iteration === 1; // one run per database with signed checkpoints
  const keys = signed ? generateKeyPairSync('ed25519') : undefined;
  const publicKeys: TrustedKey[] = keys ? [trustedKey(keys.publicKey)] : [];
  const dir = tempDir('qt-crash-');
  const table = `qt_crash_${randomBytes(6).toString('hex')}`;
  await target.create(table);
  created.push({ target, table });
  try {
    const killAt = randomInt(200, 800);
    const delayMs = randomInt(0, 25);
    const run = await runAndKill(target.system, dir, table, keys?.privateKey, killAt, delayMs);
    await waitForSessionsGone(target, run.sessions);

    // What the server executed (committed) vs what the journal holds, before anything touches the journal.
    const rows = await target.markers(table);
    const before = readSegments(dir);
    const last = before.at(-1)!;
    const events = records(before); // complete lines only: a torn last line is never counted
    const attempts = events.filter((e) => e.type === 'db.query.attempt' && e.statement?.text?.includes(table));
    const attemptMarker = new Map<string, string>();
    for (const a of attempts) {
      assert.equal(a.statement?.params?.mode, 'raw');
      attemptMarker.set(a.event_id, String(a.statement!.params!.values![0]));
    }
    const journaled = new Set(attemptMarker.values());
    const completions = events.filter((e) => e.type === 'db.query' && e.statement?.text?.includes(table));
    const succeeded = completions.filter((e) => e.result?.outcome === 'success');
    const rowSet = new Set(rows);
    const unexecuted = [...journaled].filter((m) => !rowSet.has(m)).length;

    t.diagnostic(
      `${target.name} #${iteration + 1}${signed ? ' (signed)' : ''}: killed after ≥${run.progress} INSERTs (target ${killAt} + ${delayMs} ms); ` +
        `${rows.length} rows, ${attempts.length} attempt records, ${completions.length} completions, ` +
        `${unexecuted} attempts without a row, torn last line: ${last.torn ? `${last.torn.length} bytes` : 'no'}`,
    );

    assert.ok(rows.length >= run.progress, `the table holds ${rows.length} rows but the child had completed ${run.progress} INSERTs`);
    assert.equal(new Set(rows).size, rows.length);
    // The guarantee: nothing the database executed is missing from the trail.
    const missing = rows.filter((m) => !journaled.has(m));
    assert.deepEqual(
      missing.slice(0, 20),
      [],
      `${missing.length} of ${rows.length} executed INSERTs have no db.query.attempt record in the journal (sync mode must write it before sending)`,
    );
    // Sanity the other way round: a success the journal reports was executed, and names an earlier attempt.
    const seenAttempts = new Set<string>();
    for (const e of events) {
      if (e.type === 'db.query.attempt') seenAttempts.add(e.event_id);
      if (e.type === 'db.query' && e.statement?.text?.includes(table)) {
        assert.ok(e.attempt_id && seenAttempts.has(e.attempt_id), `db.query ${e.event_id} does not follow its attempt record`);
      }
    }
    for (const e of succeeded) assert.ok(rowSet.has(attemptMarker.get(e.attempt_id!)!), `journaled success ${e.event_id} has no row`);

    // The crashed journal itself: a torn tail or an unanchored end are warnings, never INVALID.
    const crashed = verifyJournal(dir, { publicKeys });
    assert.deepEqual(invalid(crashed), [], JSON.stringify(invalid(crashed)));
    assert.equal(crashed.chains.length, 1);
    const oldChain = crashed.chains[0]!;
    const lastLine = last.lines.at(-1)!;
    const lastRecord = JSON.parse(lastLine.toString('utf8')) as QuerytrailEvent;
    assert.equal(lastRecord.integrity?.seq, oldChain.last_seq);

    // Restart on the same directory.
    const restarted = createAuditor({
      service: { name: 'crash-restart' },
      journal: { dir, mode: 'sync', ...(keys ? { signingKey: keys.privateKey } : {}) },
    });
    await restarted.close();

    if (last.torn) {
      assert.deepEqual(readFileSync(`${last.path}.torn`), last.torn, 'the torn bytes are set aside in <segment>.torn');
      assert.equal(statSync(last.path).size, last.completeBytes, 'the segment is cut back to its last complete line');
    } else {
      assert.equal(existsSync(`${last.path}.torn`), false);
      assert.equal(statSync(last.path).size, last.completeBytes);
    }
    const newSegments = readSegments(dir).filter((s) => !s.file.includes(oldChain.chain_id));
    assert.ok(newSegments.length >= 1);
    const genesis = JSON.parse(newSegments[0]!.lines[0]!.toString('utf8')) as QuerytrailEvent;
    assert.equal(genesis.type, 'chain.genesis');
    assert.equal(genesis.genesis?.reason, last.torn ? 'crash_recovery' : 'restart');
    assert.deepEqual(genesis.genesis?.previous, {
      chain_id: oldChain.chain_id,
      seq: lastRecord.integrity!.seq,
      hash: hashLine(lastLine),
      segment: last.file,
    });

    const report = verifyJournal(dir, { publicKeys });
    assert.deepEqual(invalid(report), [], JSON.stringify(invalid(report)));
    assert.equal(report.chains.length, 2);
    const newChain = report.chains.find((c) => c.chain_id !== oldChain.chain_id)!;
    // Unsigned, every chain ends in an unanchored tail (WARN); signed, the restarted chain closed on a checkpoint.
    assert.equal(newChain.status, signed ? 'valid' : 'WARN', JSON.stringify(report.findings));
    assert.equal(newChain.genesis_reason, genesis.genesis?.reason);
    const oldFindings = report.findings.filter((f) => f.chain_id === oldChain.chain_id).map((f) => f.code);
    assert.ok(!oldFindings.includes('torn_line'), 'after recovery the old segment no longer ends mid-record');
    for (const code of oldFindings) assert.ok(['unanchored_tail', 'signatures_not_checked'].includes(code), `unexpected finding ${code}`);
  } finally {
    await target.drop(table);
  }
}

for (const target of [MARIADB, POSTGRES]) {
  test(`${target.name}: kill -9 during concurrent sync-mode load loses no executed statement; restart recovers`, async (t) => {
    for (let i = 0; i < ITERATIONS; i++) {
      await t.test(`iteration ${i + 1}`, (tt) => crashIteration(tt, target, i));
    }
  });
}

// ---- a torn line never hides an authenticated record --------------------------------------------

async function signedJournal(privateKey: KeyObject): Promise<{ dir: string; checkpointCounts: number[] }> {
  const dir = tempDir('qt-torn-');
  const auditor = createAuditor({ service: { name: 'torn' }, journal: { dir, signingKey: privateKey, checkpointEvery: 8 } });
  // Until the parsers load, db.query events wait for them (and would reach the journal in one batch, one checkpoint).
  await auditor.ready();
  for (let i = 0; i < 40; i++) {
    auditor.begin({ text: `DELETE FROM t WHERE id = ${i}`, db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsAffected: 1 });
    if (i % 5 === 0) await auditor.flush();
  }
  await auditor.close();
  const cpFile = readdirSync(dir).find((f) => f.endsWith('.checkpoints.jsonl'))!;
  const checkpointCounts = readFileSync(join(dir, cpFile), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { count: number }).count);
  return { dir, checkpointCounts };
}

/** Cuts the (only) segment at `offset`, restarts an auditor on the directory, and verifies it. */
async function cutAndRestart(dir: string, privateKey: KeyObject, offset: number) {
  const [seg] = readSegments(dir);
  assert.equal(readSegments(dir).length, 1);
  const oldChain = seg!.file.slice(3, 39);
  const original = readFileSync(seg!.path);
  truncateSync(seg!.path, offset);
  const restarted = createAuditor({ service: { name: 'torn' }, journal: { dir, signingKey: privateKey } });
  await restarted.close();
  return { seg: seg!, oldChain, original };
}

test('a torn line never hides an authenticated record: a cut inside a checkpointed record is INVALID after recovery', async () => {
  const k = generateKeyPairSync('ed25519');
  const publicKeys = [trustedKey(k.publicKey)];
  const { dir, checkpointCounts } = await signedJournal(k.privateKey);
  assert.ok(checkpointCounts.length >= 4, `only ${checkpointCounts.length} checkpoints`);
  // A record well inside the chain that a checkpoint (not only the final one) covers.
  const covered = checkpointCounts[Math.floor(checkpointCounts.length / 2)]!;
  const [seg] = readSegments(dir);
  const startOf = seg!.lines.slice(0, covered - 1).reduce((n, l) => n + l.length + 1, 0);
  const cutAt = startOf + Math.floor(seg!.lines[covered - 1]!.length / 2);

  const { oldChain, original } = await cutAndRestart(dir, k.privateKey, cutAt);

  // Recovery did what it does for any torn line: set the bytes aside, cut, start a crash_recovery chain…
  assert.deepEqual(readFileSync(`${seg!.path}.torn`), original.subarray(startOf, cutAt));
  assert.equal(statSync(seg!.path).size, startOf);
  const report = verifyJournal(dir, { publicKeys });
  const newChain = report.chains.find((c) => c.chain_id !== oldChain)!;
  assert.equal(newChain.genesis_reason, 'crash_recovery');
  assert.equal(newChain.status, 'valid', JSON.stringify(report.findings));
  // …but the loss of records a signed checkpoint vouches for is not excused as a crash.
  assert.equal(report.ok, false);
  const gaps = invalid(report).filter((f) => f.chain_id === oldChain && f.code === 'gap');
  assert.ok(gaps.length >= 1, JSON.stringify(report.findings));
  assert.match(gaps[0]!.message, new RegExp(`covers \\d+ records, but only ${covered - 1} are present`));
});

test('a torn line never hides an authenticated record: a last record stripped of its newline is INVALID after recovery', async () => {
  const k = generateKeyPairSync('ed25519');
  const publicKeys = [trustedKey(k.publicKey)];
  const { dir, checkpointCounts } = await signedJournal(k.privateKey);
  const [seg] = readSegments(dir);
  const total = seg!.lines.length;
  assert.equal(checkpointCounts.at(-1), total, 'the close checkpoint covers the last record');

  // The complete, checkpointed sdk.stop record now looks like an interrupted write.
  const { oldChain, original } = await cutAndRestart(dir, k.privateKey, seg!.completeBytes - 1);
  const lastLine = seg!.lines.at(-1)!;
  assert.deepEqual(readFileSync(`${seg!.path}.torn`), lastLine);
  assert.equal(statSync(seg!.path).size, original.length - lastLine.length - 1);
  const report = verifyJournal(dir, { publicKeys });
  assert.equal(report.ok, false, 'recovery must not turn the loss of a signed record into a clean journal');
  const gaps = invalid(report).filter((f) => f.chain_id === oldChain && f.code === 'gap');
  assert.ok(gaps.length >= 1, JSON.stringify(report.findings));
  assert.match(gaps[0]!.message, new RegExp(`covers ${total} records, but only ${total - 1} are present`));
});

// A crash during a chain's very first write leaves a segment holding only part of its genesis. Recovery
// sets those bytes aside, moves the now-empty segment aside too, and links the new genesis to the
// intact chain before it.
test(
  'crash during a chain’s first write: recovery leaves no record-less chain and links past it',
  async () => {
    const dir = tempDir('qt-torn-first-');
    const first = createAuditor({ service: { name: 'torn' }, journal: { dir } });
    first.begin({ text: 'SELECT 1', db: { system: 'postgresql', driver: 'pg' } }).succeed();
    await first.close();
    const [a] = readSegments(dir);
    const aLast = a!.lines.at(-1)!;
    const aChain = a!.file.slice(3, 39);
    const second = createAuditor({ service: { name: 'torn' }, journal: { dir } });
    await second.close();
    const b = readSegments(dir).at(-1)!;
    const partial = readFileSync(b.path).subarray(0, 100);
    truncateSync(b.path, 100); // killed in the middle of writing its genesis

    const third = createAuditor({ service: { name: 'torn' }, journal: { dir } });
    await third.close();
    assert.deepEqual(readFileSync(`${b.path}.torn`), partial);
    const report = verifyJournal(dir);
    assert.deepEqual(invalid(report), [], JSON.stringify(report.findings));
    const newest = readSegments(dir).at(-1)!;
    const genesis = JSON.parse(newest.lines[0]!.toString('utf8')) as QuerytrailEvent;
    assert.equal(genesis.genesis?.reason, 'crash_recovery');
    assert.deepEqual(genesis.genesis?.previous, {
      chain_id: aChain,
      seq: (JSON.parse(aLast.toString('utf8')) as QuerytrailEvent).integrity!.seq,
      hash: hashLine(aLast),
      segment: a!.file,
    });
  },
);
