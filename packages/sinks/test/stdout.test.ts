import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ConfigError } from '@querytrail/core';
import { type LineStream, stdoutSink } from '@querytrail/sinks/stdout';
import { assertAllArrived, assertVerifies, journalAuditor, reassembleRecords, recordStatements, recordsFromLines, testKey } from '../../core/test/delivery/harness.js';
import { tempDir } from '../../core/test/support/temp-dir.js';

/** A line stream (the sink's structural interface) that fails its first `failures` writes, then keeps what it is given. */
function capture(failures = 0): { stream: LineStream; text: () => string; writes: number } {
  const chunks: string[] = [];
  let writes = 0;
  const stream: LineStream = {
    write(chunk, cb) {
      writes++;
      if (writes <= failures) setImmediate(() => cb(new Error('EAGAIN')));
      else {
        chunks.push(chunk);
        setImmediate(() => cb());
      }
      return true;
    },
  };
  return {
    stream,
    text: () => chunks.join(''),
    get writes() {
      return writes;
    },
  };
}

test('stdout: a destroyed Node stream is an error the engine retries, not a hang', async () => {
  const w = new Writable({ write: (_c, _e, cb) => cb() });
  w.destroy();
  await assert.rejects(stdoutSink({ stream: w }).write({ type: 'records', records: [{ kind: 'event', line: '{}', chainId: 'c', dedupId: 'd', file: 'f' }] }), /stream is closed/);
});

test('stdout: every journal line as NDJSON, byte-exact, checkpoints included; a failed write is resent', async () => {
  const dir = tempDir('qt-sink-stdout-');
  const key = testKey();
  const out = capture(1);
  const auditor = journalAuditor(dir, key, { sinks: [stdoutSink({ stream: out.stream })], delivery: { pollIntervalMs: 20, backoff: { initialMs: 5, maxMs: 20 }, onError: () => {} } });
  await recordStatements(auditor, 80);
  await auditor.close();
  assert.ok(out.writes >= 2);
  const lines = out.text().split('\n').filter((l) => l.length > 0);
  const byId = assertAllArrived(dir, recordsFromLines(lines));
  assertVerifies(dir, reassembleRecords(byId.values(), tempDir('qt-sink-stdout-copy-')), key);
});

test("stdout format 'ocsf': one OCSF Datastore Activity object per statement, no checkpoints", async () => {
  const dir = tempDir('qt-sink-stdout-');
  const out = capture();
  const auditor = journalAuditor(dir, testKey(), { sinks: [stdoutSink({ stream: out.stream, format: 'ocsf', name: 'siem' })] });
  await recordStatements(auditor, 12);
  await auditor.close();
  const objects = out.text().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as { class_uid: number; activity_id: number; metadata: { uid: string } });
  assert.equal(objects.length, 12);
  for (const o of objects) {
    assert.equal(o.class_uid, 6005);
    assert.equal(o.activity_id, 2, 'UPDATE maps to Update');
  }
  assert.equal(new Set(objects.map((o) => o.metadata.uid)).size, 12);
});

test('stdout settings are checked with errors naming the field', () => {
  assert.throws(() => stdoutSink({ format: 'xml' as never }), (e: unknown) => e instanceof ConfigError && e.path === 'stdout.format');
  assert.throws(() => stdoutSink({ stream: {} as never }), (e: unknown) => e instanceof ConfigError && e.path === 'stdout.stream');
});
