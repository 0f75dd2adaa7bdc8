import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '@querytrail/core';
import { fileSink } from '@querytrail/sinks/file';
import { assertVerifiedCopy, journalAuditor, journalIds, recordStatements, testKey } from '../../core/test/delivery/harness.js';
import { tempDir } from '../../core/test/support/temp-dir.js';

test('the file sink archives every sealed segment and the checkpoints, read-only, verifiable in place', async () => {
  const dir = tempDir('qt-sink-file-');
  const archive = join(tempDir('qt-sink-archive-'), 'nested', 'archive');
  const key = testKey();
  const auditor = journalAuditor(dir, key, { sinks: [fileSink({ dir: archive })] });
  await auditor.sinksReady();
  await recordStatements(auditor, 150);
  await auditor.close();
  const names = readdirSync(archive).sort();
  assert.ok(names.filter((n) => n.endsWith('.checkpoints.jsonl')).length === 1);
  assert.ok(names.length >= 4, `${names.length} files archived`);
  assert.ok(!names.some((n) => n.endsWith('.tmp')), 'no temporary files left behind');
  for (const n of names) assert.equal(statSync(join(archive, n)).mode & 0o777, 0o444, `${n} is read-only`);
  assertVerifiedCopy(dir, archive, key);
  assert.equal(journalIds(archive).events.size, journalIds(dir).events.size);
});

test('the file sink resumes after a restart, accepts identical resends and refuses to overwrite a different segment', async () => {
  const dir = tempDir('qt-sink-file-');
  const archive = tempDir('qt-sink-archive-');
  const key = testKey();
  const a1 = journalAuditor(dir, key, { sinks: [fileSink({ dir: archive })] });
  await recordStatements(a1, 60, 'one');
  await a1.close();
  const first = readdirSync(archive).length;
  const a2 = journalAuditor(dir, key, { sinks: [fileSink({ dir: archive })] });
  await recordStatements(a2, 60, 'two');
  await a2.close();
  assert.ok(readdirSync(archive).length > first);
  assertVerifiedCopy(dir, archive, key);

  // A resend of everything (a lost cursor) is accepted as identical; a tampered copy is refused.
  const sink = fileSink({ dir: archive });
  await sink.start!();
  const segment = readdirSync(dir).find((n) => /-000001\.jsonl$/.test(n))!;
  const file = { kind: 'segment' as const, chainId: segment.slice(3, 39), name: segment, path: join(dir, segment), bytes: statSync(join(dir, segment)).size };
  assert.deepEqual(await sink.write({ type: 'files', files: [file] }), {});
  const other = readdirSync(dir).find((n) => /-000002\.jsonl$/.test(n))!;
  await assert.rejects(sink.write({ type: 'files', files: [{ ...file, path: join(dir, other), bytes: statSync(join(dir, other)).size }] }), /refusing to overwrite evidence/);
  assert.deepEqual(await sink.write({ type: 'files', files: [file, { ...file, path: join(dir, other), bytes: statSync(join(dir, other)).size }] }), { failed: [1] });
});

test('file sink settings are checked with errors naming the field', async () => {
  assert.throws(() => fileSink({} as never), (e: unknown) => e instanceof ConfigError && e.path === 'file.dir');
  assert.throws(() => fileSink({ dir: '/tmp/x', name: 'a/b' }), (e: unknown) => e instanceof ConfigError && e.path === 'file.name');
  const blocked = join(tempDir('qt-sink-ro-'), 'file-not-dir');
  writeFileSync(blocked, 'x');
  await assert.rejects(fileSink({ dir: join(blocked, 'sub') }).start!(), (e: unknown) => e instanceof ConfigError && e.path === 'file.dir');
});
