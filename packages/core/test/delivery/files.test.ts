import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, createAuditor, createDelivery, parseSegmentName } from '@querytrail/core';
import { tempDir } from '../support/temp-dir.js';
import { assertVerifiedCopy, journalAuditor, MemorySink, recordStatements, testKey } from './harness.js';

/** Writes what a 'files' sink received into a directory, later snapshots of a checkpoint file replacing earlier ones. */
function materialise(sink: MemorySink): string {
  const out = tempDir('qt-files-copy-');
  for (const { file, content } of sink.files) writeFileSync(join(out, file.name), content);
  return out;
}

test("a 'files' sink gets every sealed segment once and checkpoint snapshots after seals and at close", async () => {
  const dir = tempDir('qt-files-');
  const key = testKey();
  let down = true;
  const sink = new MemorySink('archive', {
    accepts: 'files',
    maxBatch: 2,
    behaviour: (call, batch) => {
      if (down && call <= 2) throw new Error('unreachable');
      // The second file of every two-file batch fails once: only it is resent.
      if (batch.type === 'files' && batch.files.length === 2 && call % 2 === 1) return { failed: [1] };
      return {};
    },
  });
  const auditor = journalAuditor(dir, key, { sinks: [sink], delivery: { pollIntervalMs: 20, backoff: { initialMs: 5, maxMs: 40 }, onError: () => {} } });
  await recordStatements(auditor, 50);
  down = false;
  for (let round = 0; round < 3; round++) {
    assert.equal(await auditor.sinkDelivery!.drain(10_000), true);
    await recordStatements(auditor, 50, `r${round}`);
  }
  await auditor.close();

  const segments = readdirSync(dir).filter((f) => parseSegmentName(f));
  assert.ok(segments.length >= 4, `the journal rotated (${segments.length} segments)`);
  const shipped = sink.files.filter((f) => f.file.kind === 'segment').map((f) => f.file.name);
  assert.deepEqual(shipped, segments.sort(), 'each sealed segment once, in order, the last one after close');
  const snapshots = sink.files.filter((f) => f.file.kind === 'checkpoints');
  assert.ok(snapshots.length >= 2, 'checkpoint snapshots after seals and at close');
  for (let i = 1; i < snapshots.length; i++) {
    const [a, b] = [snapshots[i - 1]!.content, snapshots[i]!.content];
    assert.ok(b.length > a.length && b.subarray(0, a.length).equals(a), 'each snapshot extends the previous one');
  }
  for (const s of snapshots) assert.equal(s.content.at(-1), 0x0a, 'snapshots hold complete lines only');
  assertVerifiedCopy(dir, materialise(sink), key);
});

test("a new chain seals the previous one: a 'files' sink ships it on the next start", async () => {
  const dir = tempDir('qt-files-');
  const key = testKey();
  const a1 = journalAuditor(dir, key);
  await recordStatements(a1, 30, 'one');
  await a1.close();
  const sink = new MemorySink('late', { accepts: 'files' });
  const a2 = journalAuditor(dir, key, { sinks: [sink] });
  await recordStatements(a2, 30, 'two');
  await a2.close();
  const chains = new Set(sink.files.map((f) => f.file.chainId));
  assert.equal(chains.size, 2);
  assertVerifiedCopy(dir, materialise(sink), key);
});

test('sink settings are validated at start with errors that name the field', async () => {
  const dir = tempDir('qt-files-');
  const ok = new MemorySink('a');
  const expectConfig = (fn: () => unknown, path: string) =>
    assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.path === path, `ConfigError at ${path}`);
  expectConfig(() => createAuditor({ service: { name: 's' }, journal: false, sinks: [ok] }), 'sinks');
  expectConfig(() => createAuditor({ service: { name: 's' }, journal: { dir }, sinks: [ok, new MemorySink('a')] }), 'sinks[1].name');
  expectConfig(() => createAuditor({ service: { name: 's' }, journal: { dir }, sinks: [{ ...ok, name: 'a', accepts: 'lines' } as never] }), 'sinks[0].accepts');
  expectConfig(() => createAuditor({ service: { name: 's' }, journal: { dir }, sinks: [{ name: 'x', accepts: 'records' } as never] }), 'sinks[0].write');
  expectConfig(() => createAuditor({ service: { name: 's' }, journal: { dir }, sinks: [new MemorySink('../escape')] }), 'sinks[0].name');
  expectConfig(() => createAuditor({ service: { name: 's' }, journal: { dir }, sinks: [ok], delivery: { closeTimeoutMs: -1 } }), 'delivery.closeTimeoutMs');
  expectConfig(() => createDelivery({ dir, sinks: [ok], backoff: { maxMs: 0 } }), 'backoff.maxMs');

  // A sink's own start() refusal surfaces from start() (and auditor.sinksReady()); the other sinks still run.
  const refusing = Object.assign(new MemorySink('refusing'), {
    start: async () => {
      throw new ConfigError('s3.bucket', 'bucket has no Object Lock configuration');
    },
  });
  const a = journalAuditor(dir, testKey(), { sinks: [refusing, ok] });
  const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
  await assert.rejects(a.sinksReady(), (e: unknown) => e instanceof ConfigError && e.path === 's3.bucket');
  assert.match((await warned).message, /querytrail sinks: s3\.bucket: bucket has no Object Lock/);
  await recordStatements(a, 5);
  await a.close();
  assert.ok(ok.records.length >= 5, 'the other sink delivered');
  assert.equal(refusing.calls.length, 0);
});

test('a damaged cursor file stops that sink at start with an error naming the file', async () => {
  const dir = tempDir('qt-files-');
  mkdirSync(join(dir, '.cursors'));
  writeFileSync(join(dir, '.cursors', 'broken.json'), '{"schema":"querytrail.cursor/1","type":"records","chain":null,"segment":-4}');
  const delivery = createDelivery({ dir, sinks: [new MemorySink('broken')], onError: () => {} });
  await assert.rejects(delivery.start(), (e: unknown) => e instanceof ConfigError && e.path === join(dir, '.cursors', 'broken.json') && /segment/.test(e.message));
  await delivery.close();
});
