import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAuditor } from '@querytrail/core';
import { main } from '../src/main.js';
import { captureIo } from './support/cli-io.js';

const bin = fileURLToPath(new URL('../bin/querytrail.js', import.meta.url));

async function journalDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'qt-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const auditor = createAuditor({ service: { name: 'cli' }, journal: { dir } });
  auditor.begin({ text: 'DELETE FROM accounts WHERE id = $1', params: [7], db: { system: 'mysql', driver: 'mysql2' } }).succeed({ rowsAffected: 1 });
  await auditor.close();
  return dir;
}

test('querytrail verify: valid journal exits 0 and says valid', async () => {
  const dir = await journalDir();
  const io = captureIo();
  assert.equal(await main(['verify', dir], io), 0);
  assert.match(io.stdout, /result: valid/);
});

test('querytrail verify --json prints the report', async () => {
  const dir = await journalDir();
  const io = captureIo();
  assert.equal(await main(['verify', dir, '--json'], io), 0);
  const report = JSON.parse(io.stdout);
  assert.equal(report.ok, true);
  assert.equal(report.records, 4);
});

test('querytrail verify: a one-byte change exits 1 and names the segment', async () => {
  const dir = await journalDir();
  const file = join(dir, readdirSync(dir)[0]!);
  const buf = readFileSync(file);
  const at = buf.indexOf('accounts');
  buf[at] = 'A'.charCodeAt(0);
  writeFileSync(file, buf);
  const io = captureIo();
  assert.equal(await main(['verify', dir], io), 1);
  assert.match(io.stdout, /INVALID hash_mismatch/);
  assert.match(io.stdout, /result: INVALID/);
});

test('querytrail verify: usage errors exit 2 with a message', async () => {
  const io = captureIo();
  assert.equal(await main(['verify'], io), 2);
  assert.match(io.stderr, /name a journal directory/);
  const io2 = captureIo();
  assert.equal(await main(['verify', '/no/such/dir'], io2), 2);
  assert.match(io2.stderr, /no such file or directory/);
  const io3 = captureIo();
  assert.equal(await main(['frobnicate'], io3), 2);
});

test('the installed bin (npx querytrail) runs the built CLI', async () => {
  const dir = await journalDir();
  const r = spawnSync(process.execPath, [bin, 'verify', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /result: valid/);
});
