import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError, type SinkRecord } from '@querytrail/core';
import { AwsSinkError, firehoseSink, MAX_BYTES_PER_CALL, MAX_RECORD_BYTES, MAX_RECORDS_PER_CALL } from '@querytrail/sinks/firehose';
import { createStreamToBucket, deliveredLines, startAwsEnv } from '../support/aws-env.js';
import type { ProxiedRequest } from '../support/fault-proxy.js';
import { TEST_CREDENTIALS } from '../support/moto.js';

// Direct write() tests of the Firehose sink: the real AWS SDK client against moto_server through the
// fault proxy. The end-to-end path through the delivery engine is in firehose-delivery.test.ts.

const env = await startAwsEnv();
let streams = 0;

/** A fresh stream (and its destination bucket) per test, so what each test reads back is its own. */
async function stream(): Promise<{ stream: string; bucket: string }> {
  streams += 1;
  const s = { stream: `qt-fh-write-${streams}`, bucket: `qt-fh-write-${streams}` };
  await createStreamToBucket(env, s.stream, s.bucket);
  return s;
}

function records(n: number, lineBytes = 80, tag = 'r'): SinkRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${tag}-${String(i).padStart(6, '0')}`;
    const head = `{"event_id":"${id}","pad":"`;
    const line = `${head}${'x'.repeat(Math.max(0, lineBytes - head.length - 2))}"}`;
    return { kind: 'event', line, chainId: '00000000-0000-7000-8000-000000000000', dedupId: id, file: 'qt-test-000001.jsonl' } as const;
  });
}

const idOf = (line: string): string => (JSON.parse(line) as { event_id?: string; dedup_id?: string }).event_id ?? '';
const batches = (from: number): ProxiedRequest[] => env.proxy.requests.slice(from).filter((r) => r.operation === 'PutRecordBatch');

test('settings are validated at configuration time, naming the field', () => {
  const bad: [object, string][] = [
    [{}, 'firehose.deliveryStreamName'],
    [{ deliveryStreamName: 'has space' }, 'firehose.deliveryStreamName'],
    [{ deliveryStreamName: 's', requestTimeoutMs: -1 }, 'firehose.requestTimeoutMs'],
    [{ deliveryStreamName: 's', throttleRetryMs: 'soon' }, 'firehose.throttleRetryMs'],
    [{ deliveryStreamName: 's', name: 'a/b' }, 'firehose.name'],
    [{ deliveryStreamName: 's', client: {}, clientConfig: {} }, 'firehose.clientConfig'],
  ];
  for (const [options, path] of bad) {
    assert.throws(
      () => firehoseSink(options as never),
      (e: unknown) => e instanceof ConfigError && e.path === path && e.code === 'QT_ERR_CONFIG',
      `${JSON.stringify(options)} should fail at ${path}`,
    );
  }
  const sink = firehoseSink({ deliveryStreamName: 'audit-stream', clientConfig: env.sinkConfig() });
  assert.equal(sink.name, 'firehose-audit-stream');
  assert.equal(sink.accepts, 'records');
  assert.equal(sink.maxBatch, MAX_RECORDS_PER_CALL);
});

test('start() refuses a stream that does not exist, and accepts one that does', async () => {
  const missing = firehoseSink({ deliveryStreamName: 'qt-no-such-stream', clientConfig: env.sinkConfig() });
  await assert.rejects(missing.start!(), (e: unknown) => e instanceof ConfigError && e.path === 'firehose.deliveryStreamName' && /does not exist/.test(e.message));
  await missing.close();
  const s = await stream();
  const ok = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig() });
  await ok.start!();
  await ok.close();
});

test('each record is the line plus a newline; more than 500 records or 4 MiB is split into calls within the limits', async () => {
  const s = await stream();
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(20_000) });
  const from = env.proxy.requests.length;
  // 1,200 small records: 500 + 500 + 200.
  const small = records(1200, 60, 'small');
  assert.deepEqual(await sink.write({ type: 'records', records: small }), {});
  assert.deepEqual(
    batches(from).map((r) => r.records!.length),
    [500, 500, 200],
  );
  // 700 records of 8 KiB: 5.6 MiB in all, so at least two calls, none above 4 MiB.
  const mid = env.proxy.requests.length;
  const big = records(700, 8192, 'big');
  assert.deepEqual(await sink.write({ type: 'records', records: big }), {});
  const calls = batches(mid);
  assert.ok(calls.length >= 2, `${calls.length} calls`);
  for (const c of calls) {
    const bytes = c.records!.reduce((n, r) => n + r.length, 0);
    assert.ok(bytes <= MAX_BYTES_PER_CALL, `a call carried ${bytes} bytes`);
    assert.ok(c.records!.length <= MAX_RECORDS_PER_CALL);
    for (const r of c.records!) assert.equal(r.at(-1), 0x0a, 'every record ends with a newline');
  }
  // The calls carry every line once, in order, exactly as given.
  const sent = calls.flatMap((c) => c.records!.map((r) => r.toString('utf8')));
  assert.deepEqual(sent, big.map((r) => `${r.line}\n`));
  const delivered = await deliveredLines(env.s3, s.bucket);
  assert.equal(delivered.length, 1900);
  assert.deepEqual(new Set(delivered.map(idOf)), new Set([...small, ...big].map((r) => r.dedupId)));
  assert.equal(sink.stats.calls, 3 + calls.length);
  await sink.close();
});

test('FailedPutCount: only the failed records are returned by index; resending them completes the set', async () => {
  const s = await stream();
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(), throttleRetryMs: 250 });
  const batch = records(9, 100, 'partial');
  env.proxy.failNext((r) => r.operation === 'PutRecordBatch', { kind: 'partial', failRecord: (i) => i % 3 === 0 });
  const from = env.proxy.requests.length;
  const res = await sink.write({ type: 'records', records: batch });
  assert.deepEqual(res.failed, [0, 3, 6]);
  assert.equal(res.retryAfterMs, 250, 'a per-record ServiceUnavailableException asks the engine to slow down');
  assert.equal(sink.stats.recordsFailed, 3);
  // Resend exactly the failed ones, as the engine does.
  const again = res.failed!.map((i) => batch[i]!);
  assert.deepEqual(await sink.write({ type: 'records', records: again }), {});
  const sent = batches(from);
  assert.equal(sent.length, 2);
  assert.deepEqual(
    sent[1]!.records!.map((r) => idOf(r.toString('utf8'))),
    ['partial-000000', 'partial-000003', 'partial-000006'],
  );
  const delivered = await deliveredLines(env.s3, s.bucket);
  assert.deepEqual(delivered.map(idOf).sort(), batch.map((r) => r.dedupId).sort(), 'each record stored exactly once');
  await sink.close();
});

test('throttling, ServiceUnavailable and 500 fail the whole write with the cause; throttling carries retryAfterMs', async () => {
  const s = await stream();
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(), throttleRetryMs: 300 });
  const batch = records(5, 100, 'whole');
  const cases: [string, 'throttle' | 'unavailable' | 'error500', number | undefined][] = [
    ['ThrottlingException', 'throttle', 300],
    ['ServiceUnavailableException', 'unavailable', 300],
    ['InternalFailure', 'error500', undefined],
  ];
  for (const [name, kind, retryAfterMs] of cases) {
    env.proxy.failNext((r) => r.operation === 'PutRecordBatch', kind);
    await assert.rejects(sink.write({ type: 'records', records: batch }), (e: unknown) => {
      assert.ok(e instanceof AwsSinkError, String(e));
      assert.equal(e.awsErrorName, name);
      assert.equal(e.retryAfterMs, retryAfterMs);
      assert.equal(e.transient, true);
      assert.match(e.message, new RegExp(`PutRecordBatch to "${s.stream}" failed: ${name}`));
      return true;
    });
  }
  assert.deepEqual(await deliveredLines(env.s3, s.bucket), [], 'nothing reached moto');
  assert.deepEqual(await sink.write({ type: 'records', records: batch }), {});
  assert.equal((await deliveredLines(env.s3, s.bucket)).length, 5);
  await sink.close();
});

test('a throttled later call returns the untaken records as failed instead of resending the calls that went through', async () => {
  const s = await stream();
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(), throttleRetryMs: 100, onError: () => {} });
  const batch = records(1100, 50, 'later');
  let calls = 0;
  env.proxy.failNext((r) => r.operation === 'PutRecordBatch' && ++calls === 2, 'throttle');
  const res = await sink.write({ type: 'records', records: batch });
  assert.deepEqual(res.failed, Array.from({ length: 600 }, (_, i) => 500 + i));
  assert.equal(res.retryAfterMs, 100);
  assert.equal((await deliveredLines(env.s3, s.bucket)).length, 500);
  await sink.close();
});

test('a timeout after the write succeeded: the client gives up, the resend duplicates, dedup by event_id restores the set', async () => {
  const s = await stream();
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(800) });
  const batch = records(20, 100, 'timeout');
  env.proxy.failNext((r) => r.operation === 'PutRecordBatch', 'timeout-after-write');
  await assert.rejects(sink.write({ type: 'records', records: batch }), (e: unknown) => e instanceof AwsSinkError && e.awsErrorName === 'TimeoutError' && e.transient);
  assert.equal((await deliveredLines(env.s3, s.bucket)).length, 20, 'moto stored the first write');
  assert.deepEqual(await sink.write({ type: 'records', records: batch }), {});
  const delivered = await deliveredLines(env.s3, s.bucket);
  assert.equal(delivered.length, 40, 'at least once: the resend is a duplicate');
  assert.deepEqual([...new Set(delivered.map(idOf))].sort(), batch.map((r) => r.dedupId));
  await sink.close();
});

test('a line over the 1,000 KiB record limit is replaced by an oversize notice, reported and counted, never dropped in silence', async () => {
  const s = await stream();
  const errors: Error[] = [];
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(20_000), onError: (e) => errors.push(e) });
  const batch = [...records(2, 100, 'before'), ...records(1, MAX_RECORD_BYTES + 10, 'huge'), ...records(2, 100, 'after')];
  // Exactly at the limit (line + newline = 1,000 KiB) still goes as is.
  const atLimit = records(1, MAX_RECORD_BYTES - 1, 'edge');
  assert.deepEqual(await sink.write({ type: 'records', records: [...batch, ...atLimit] }), {}, 'accepted: the write does not loop forever');
  assert.equal(sink.stats.oversized, 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /huge-000000 .* over the Firehose record limit of 1024000/);
  const delivered = await deliveredLines(env.s3, s.bucket);
  assert.equal(delivered.length, 6);
  const notice = delivered.map((l) => JSON.parse(l) as Record<string, unknown>).find((v) => v.schema === 'querytrail.sink.oversize/1');
  assert.ok(notice, 'the notice is in the stream');
  const huge = batch[2]!;
  assert.equal(notice.dedup_id, huge.dedupId);
  assert.equal(notice.bytes, Buffer.byteLength(huge.line) + 1);
  assert.equal(notice.record_hash, createHash('sha256').update(huge.line).digest('hex'), 'the hash the next record names as prev_hash');
  assert.ok(delivered.some((l) => idOf(l) === 'edge-000000' && Buffer.byteLength(l) + 1 === MAX_RECORD_BYTES));
  await sink.close();
});

test('credentials never appear in errors or reports', async () => {
  const s = await stream();
  const reported: Error[] = [];
  const sink = firehoseSink({ deliveryStreamName: s.stream, clientConfig: env.sinkConfig(800), onError: (e) => reported.push(e) });
  const thrown: unknown[] = [];
  for (const kind of ['throttle', 'error500', 'timeout-after-write'] as const) {
    env.proxy.failNext((r) => r.operation === 'PutRecordBatch', kind);
    await sink.write({ type: 'records', records: records(3) }).catch((e: unknown) => thrown.push(e));
  }
  assert.equal(thrown.length, 3);
  const text = [...thrown, ...reported].map((e) => `${String(e)} ${(e as Error).stack ?? ''} ${JSON.stringify(e)}`).join('\n');
  assert.ok(!text.includes(TEST_CREDENTIALS.secretAccessKey), 'secret key leaked');
  assert.ok(!text.includes(TEST_CREDENTIALS.accessKeyId), 'access key id leaked');
  // The requests did carry them (signed), so the check above is not vacuous.
  assert.ok(env.proxy.requests.some((r) => String(r.headers.authorization ?? '').includes(TEST_CREDENTIALS.accessKeyId)));
  await sink.close();
});
