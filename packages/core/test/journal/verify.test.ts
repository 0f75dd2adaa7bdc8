import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createAuditor, type FindingCode, trustedKey, verifyJournal } from '@querytrail/core';
import { tempDir } from '../support/temp-dir.js';

/** A journal of `queries` statements over several segments, closed cleanly. */
async function makeJournal(queries = 60, segmentMaxBytes = 8192): Promise<{ dir: string; files: string[] }> {
  const dir = tempDir('qt-verify-');
  const auditor = createAuditor({ service: { name: 'verify' }, journal: { dir, segmentMaxBytes } });
  for (let i = 0; i < queries; i++) {
    auditor.begin({ text: `UPDATE t SET n = $1 WHERE id = ${i}`, params: [i], db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsAffected: 1 });
  }
  await auditor.close();
  return { dir, files: readdirSync(dir).sort() };
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

function writeLines(path: string, ls: string[]): void {
  writeFileSync(path, `${ls.join('\n')}\n`);
}

function codes(dir: string): FindingCode[] {
  return verifyJournal(dir)
    .findings.filter((f) => f.verdict === 'INVALID')
    .map((f) => f.code);
}

test('an untouched journal verifies (with the unanchored-tail warning until checkpoints exist)', async () => {
  const { dir, files } = await makeJournal();
  assert.ok(files.length >= 3, 'the fixture should span several segments');
  const report = verifyJournal(dir);
  assert.equal(report.ok, true);
  assert.deepEqual(codes(dir), []);
  assert.ok(report.findings.some((f) => f.code === 'unanchored_tail' && f.verdict === 'WARN'));
});

test('a one-byte change in a record is reported INVALID', async () => {
  const { dir, files } = await makeJournal();
  const path = join(dir, files[0]!);
  const buf = readFileSync(path);
  // Change one digit inside the statement text of a record in the middle: still valid JSON.
  const at = buf.indexOf('WHERE id = 1');
  assert.ok(at > 0);
  buf[at + 11] = '7'.charCodeAt(0);
  writeFileSync(path, buf);
  const report = verifyJournal(dir);
  assert.equal(report.ok, false);
  const f = report.findings.find((x) => x.code === 'hash_mismatch');
  assert.ok(f, JSON.stringify(report.findings));
  assert.equal(f.segment, files[0]);
});

test('a byte change that breaks the JSON is reported INVALID', async () => {
  const { dir, files } = await makeJournal();
  const path = join(dir, files[1]!);
  const buf = readFileSync(path);
  buf[10] = 0x7b; // '{' in the middle of a key
  writeFileSync(path, buf);
  assert.ok(codes(dir).includes('unparseable'));
});

test('a deleted record is a gap', async () => {
  const { dir, files } = await makeJournal();
  const path = join(dir, files[1]!);
  const ls = lines(path);
  ls.splice(2, 1);
  writeLines(path, ls);
  assert.ok(codes(dir).includes('gap'));
});

test('an inserted record is reported (its seq repeats and its hash does not chain)', async () => {
  const { dir, files } = await makeJournal();
  const path = join(dir, files[1]!);
  const ls = lines(path);
  const forged = JSON.parse(ls[2]!);
  forged.statement.text = 'SELECT 1';
  ls.splice(3, 0, JSON.stringify(forged));
  writeLines(path, ls);
  const c = codes(dir);
  assert.ok(c.includes('duplicate') || c.includes('hash_mismatch'), c.join(','));
});

test('two swapped records are reported as reordering', async () => {
  const { dir, files } = await makeJournal();
  const path = join(dir, files[1]!);
  const ls = lines(path);
  [ls[2], ls[3]] = [ls[3]!, ls[2]!];
  writeLines(path, ls);
  const c = codes(dir);
  assert.ok(c.includes('reorder') || c.includes('gap'), c.join(','));
  assert.equal(verifyJournal(dir).ok, false);
});

test('a segment deleted from the middle of a chain is not_found', async () => {
  const { dir, files } = await makeJournal();
  rmSync(join(dir, files[1]!));
  const c = codes(dir);
  assert.ok(c.includes('not_found'), c.join(','));
  assert.ok(c.includes('gap'));
});

test('a segment truncated mid-line is reported; mid-chain it is INVALID', async () => {
  const { dir, files } = await makeJournal();
  const path = join(dir, files[0]!);
  const buf = readFileSync(path);
  writeFileSync(path, buf.subarray(0, buf.length - 40));
  const report = verifyJournal(dir);
  assert.ok(report.findings.some((f) => f.code === 'torn_line' && f.verdict === 'INVALID'));
  assert.equal(report.ok, false);
});

test('a chain that is deleted while a later chain links to it is reported', async () => {
  const dir = tempDir('qt-verify-link-');
  for (let run = 0; run < 2; run++) {
    const a = createAuditor({ service: { name: 'link' }, journal: { dir } });
    await a.close();
  }
  const first = readdirSync(dir).sort()[0]!;
  rmSync(join(dir, first));
  assert.ok(codes(dir).includes('not_found'));
});

test('a rewritten previous chain breaks the link from the next one', async () => {
  const dir = tempDir('qt-verify-link2-');
  for (let run = 0; run < 2; run++) {
    const a = createAuditor({ service: { name: 'link' }, journal: { dir } });
    await a.close();
  }
  const first = join(dir, readdirSync(dir).sort()[0]!);
  const ls = lines(first);
  ls.pop(); // drop sdk.stop: the old chain is consistent in itself, but shorter than what the next genesis saw
  writeLines(first, ls);
  assert.ok(codes(dir).includes('broken_link'));
});

test('a chain restarted without a link (a forged fresh start) is flagged', async () => {
  const dir = tempDir('qt-verify-unlinked-');
  for (let run = 0; run < 2; run++) {
    const a = createAuditor({ service: { name: 'unlinked' }, journal: { dir } });
    await a.close();
  }
  // Rewrite the second chain's genesis as a "first start" and re-chain it: each chain is consistent in
  // itself, but the second no longer accounts for the first.
  const second = readdirSync(dir).sort()[1]!;
  const ls = lines(join(dir, second));
  const genesis = JSON.parse(ls[0]!);
  genesis.genesis = { reason: 'first_start' };
  ls[0] = JSON.stringify(genesis);
  let prev = createHash('sha256').update(ls[0]!).digest('hex');
  for (let i = 1; i < ls.length; i++) {
    const rec = JSON.parse(ls[i]!);
    rec.integrity.prev_hash = prev;
    ls[i] = JSON.stringify(rec);
    prev = createHash('sha256').update(ls[i]!).digest('hex');
  }
  writeLines(join(dir, second), ls);
  const report = verifyJournal(dir);
  assert.ok(report.findings.some((f) => f.code === 'unlinked_restart' && f.verdict === 'WARN'), JSON.stringify(report.findings));
});

test('a process that exits without close() still flushes, writes sdk.stop and a final checkpoint', async () => {
  const dir = tempDir('qt-exit-');
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const script = `
    import { createAuditor } from '@querytrail/core';
    const a = createAuditor({ service: { name: 'exit' }, journal: { dir: process.env.DIR, signingKey: process.env.KEY } });
    for (let i = 0; i < 10; i++) a.begin({ text: 'SELECT ' + i, db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsReturned: 1 });
    // no close(): the process simply runs out of work
  `;
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, DIR: dir, KEY: pem },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const records = readdirSync(dir)
    .filter((f) => /-\d{6}\.jsonl$/.test(f))
    .flatMap((f) => lines(join(dir, f)).map((l) => JSON.parse(l) as { type: string }));
  assert.equal(records.at(-1)?.type, 'sdk.stop');
  assert.equal(records.filter((x) => x.type === 'db.query').length, 10);
  const report = verifyJournal(dir, { publicKeys: [trustedKey(publicKey)] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.chains[0]!.anchored, records.length, 'the final checkpoint covers every record');
});
