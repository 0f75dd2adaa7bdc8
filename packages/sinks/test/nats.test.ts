import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, createDelivery } from '@querytrail/core';
import { natsSink } from '@querytrail/sinks/nats';
import { connect, type NatsConnection } from 'nats';
import {
  assertAllArrived,
  assertVerifies,
  eventually,
  journalAuditor,
  journalIds,
  reassembleRecords,
  recordStatements,
  recordsFromLines,
  testKey,
} from '../../core/test/delivery/harness.js';
import { tempDir } from '../../core/test/support/temp-dir.js';
import { NatsServerProcess } from './support/nats-server.js';

const LOCAL = 'nats://127.0.0.1:4222';
const tag = randomBytes(4).toString('hex');

/** Every message of a stream, in stream order, with its msg id header. */
async function readStream(servers: string, stream: string): Promise<{ lines: string[]; subjects: string[]; count: number }> {
  const nc = await connect({ servers });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const lines: string[] = [];
    const subjects: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      lines.push(new TextDecoder().decode(m.data));
      subjects.push(m.subject);
    }
    return { lines, subjects, count: info.state.messages };
  } finally {
    await nc.close();
  }
}

async function deleteStream(servers: string, stream: string): Promise<void> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers });
    await (await nc.jetstreamManager()).streams.delete(stream);
  } catch {
    // already gone
  } finally {
    await nc?.close();
  }
}

test('NATS JetStream (local server): creates the stream with limits, publishes every record once, a resend is deduplicated by msgID', async () => {
  const stream = `QT_TEST_${tag}`;
  const prefix = `qttest.${tag}`;
  after(() => deleteStream(LOCAL, stream));
  const dir = tempDir('qt-sink-nats-');
  const key = testKey();
  const sink = natsSink({ servers: LOCAL, subjectPrefix: prefix, stream: { name: stream, maxAgeMs: 3_600_000, duplicateWindowMs: 600_000 } });
  const auditor = journalAuditor(dir, key, { sinks: [sink] });
  await auditor.sinksReady();
  await recordStatements(auditor, 120);
  await auditor.close();

  const nc = await connect({ servers: LOCAL });
  const info = await (await nc.jetstreamManager()).streams.info(stream);
  await nc.close();
  assert.equal(info.config.storage, 'file');
  assert.deepEqual(info.config.subjects, [`${prefix}.>`]);
  assert.equal(info.config.duplicate_window, 600_000 * 1e6);
  assert.equal(info.config.max_age, 3_600_000 * 1e6);
  assert.equal(info.config.discard, 'new');

  const got = await readStream(LOCAL, stream);
  const ids = journalIds(dir);
  assert.equal(got.count, ids.events.size + ids.checkpoints.size, 'one message per record, none twice');
  const chain = [...new Set(recordsFromLines(got.lines).map((r) => r.chainId))][0]!;
  assert.ok(got.subjects.includes(`${prefix}.events.${chain}`) && got.subjects.includes(`${prefix}.checkpoints.${chain}`));
  const byId = assertAllArrived(dir, recordsFromLines(got.lines));
  assertVerifies(dir, reassembleRecords(byId.values(), tempDir('qt-sink-nats-copy-')), key);

  // A lost cursor resends everything: JetStream drops every message as a duplicate of its msgID.
  rmSync(join(dir, '.cursors'), { recursive: true });
  const again = natsSink({ servers: LOCAL, subjectPrefix: prefix, stream: { name: stream } }) as ReturnType<typeof natsSink> & { duplicates: number };
  const delivery = createDelivery({ dir, sinks: [again], pollIntervalMs: 20 });
  await delivery.start();
  delivery.journalClosed();
  assert.equal(await delivery.drain(20_000), true);
  await delivery.close();
  assert.equal(again.duplicates, got.count, 'every resend was recognised as a duplicate');
  assert.equal((await readStream(LOCAL, stream)).count, got.count, 'the stream still holds each record once');
});

test('NATS JetStream: the server is killed mid-stream and restarted; nothing is lost and duplicates are removed', async () => {
  const server = await NatsServerProcess.start(tempDir('qt-nats-store-'));
  const stream = 'QT_RESTART';
  const dir = tempDir('qt-sink-nats-');
  const key = testKey();
  const errors: Error[] = [];
  const sink = natsSink({ servers: server.url, stream: { name: stream }, publishTimeoutMs: 1000, maxBatch: 20 }) as ReturnType<typeof natsSink> & { duplicates: number };
  const auditor = journalAuditor(dir, key, {
    sinks: [sink],
    delivery: { pollIntervalMs: 20, backoff: { initialMs: 20, maxMs: 300 }, onError: (e) => errors.push(e), closeTimeoutMs: 30_000 },
  });
  await auditor.sinksReady();
  await recordStatements(auditor, 100, 'before');
  assert.equal(await auditor.sinkDelivery!.drain(10_000), true);
  const before = (await readStream(server.url, stream)).count;
  assert.ok(before > 100, `${before} messages in the stream before the outage`);

  // Kill the server while statements keep being recorded and delivered.
  const writing = recordStatements(auditor, 200, 'during');
  await new Promise((r) => setTimeout(r, 30));
  server.kill();
  await server.killed();
  await writing;
  await recordStatements(auditor, 50, 'down');
  await eventually(() => errors.length > 0, 10_000, 'the outage to be reported');
  assert.ok(errors.every((e) => /querytrail sink "nats"/.test(e.message)));
  await server.restart();
  await recordStatements(auditor, 50, 'after');
  await auditor.close();

  const got = await readStream(server.url, stream);
  const ids = journalIds(dir);
  const total = ids.events.size + ids.checkpoints.size;
  const byId = assertAllArrived(dir, recordsFromLines(got.lines));
  assert.equal(got.count, total, `the stream holds each of the ${total} records exactly once (server-side dedup)`);
  assert.equal(byId.size, got.lines.length);
  console.log(`# restart test: ${errors.length} errors reported, ${sink.duplicates} resends dropped by JetStream as duplicates`);

  // The dedup state survived the kill -9: a full resend (lost cursor) after the restart stores nothing new.
  rmSync(join(dir, '.cursors'), { recursive: true });
  const again = natsSink({ servers: server.url, stream: { name: stream } }) as ReturnType<typeof natsSink> & { duplicates: number };
  const delivery = createDelivery({ dir, sinks: [again], pollIntervalMs: 20 });
  await delivery.start();
  assert.equal(await delivery.drain(20_000), true);
  await delivery.close();
  assert.equal(again.duplicates, total);
  assert.equal((await readStream(server.url, stream)).count, total);
  assertVerifies(dir, reassembleRecords(byId.values(), tempDir('qt-sink-nats-copy-')), key);
});

test('NATS settings are checked with errors naming the field', () => {
  const expect = (fn: () => unknown, path: string) => assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.path === path, path);
  expect(() => natsSink({}), 'nats.servers');
  expect(() => natsSink({ servers: [] }), 'nats.servers');
  expect(() => natsSink({ servers: LOCAL, stream: { maxAgeMs: -5 } }), 'nats.stream.maxAgeMs');
  expect(() => natsSink({ servers: LOCAL, stream: { name: 'a.b' } }), 'nats.stream.name');
  expect(() => natsSink({ servers: LOCAL, subjectPrefix: 'a.*' }), 'nats.subjectPrefix');
  expect(() => natsSink({ servers: LOCAL, stream: { discard: 'oldest' as never } }), 'nats.stream.discard');
  expect(() => natsSink({ servers: LOCAL, stream: { duplicateWindowMs: 10_000, maxAgeMs: 5000 } }), 'nats.stream.duplicateWindowMs');
  // Credentials never show in the error of a failed write.
  const sink = natsSink({ servers: 'nats://admin:s3cret-pw@127.0.0.1:1', pass: 's3cret-pw' });
  return sink.write({ type: 'records', records: [{ kind: 'event', line: '{}', chainId: 'c', dedupId: 'd', file: 'f' }] }).then(
    () => assert.fail('expected a connection error'),
    (e: Error) => {
      assert.match(e.message, /^nats: cannot connect/);
      assert.doesNotMatch(e.message, /s3cret-pw/);
    },
  );
});
