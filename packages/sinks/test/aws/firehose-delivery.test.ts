import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyJournal } from '@querytrail/core';
import { firehoseSink } from '@querytrail/sinks/firehose';
import { assertValidEvent } from '../../../core/test/support/event-schema.js';
import { tempDir } from '../../../core/test/support/temp-dir.js';
import { createStreamToBucket, deliveredLines, startAwsEnv } from '../support/aws-env.js';
import type { Fault, ProxiedRequest } from '../support/fault-proxy.js';
import { dedup, dedupKey, journalLines, rebuildJournal, runPgWorkload, signingPair } from '../support/aws-journal.js';

// End to end: a real auditor journals real PostgreSQL statements, the delivery engine ships the
// journal through firehoseSink (real AWS SDK client) to moto's Firehose via the fault proxy, and
// Firehose's S3 destination is read back. Under every fault kind, every journal line must arrive
// (after dedup by event_id), and the delivered lines must pass verifyJournal with the public key.

const env = await startAwsEnv();
let n = 0;

interface Outcome {
  sent: ProxiedRequest[];
  lines: string[];
  errors: Error[];
}

async function deliverUnder(script: (req: ProxiedRequest, call: number) => Fault | undefined): Promise<Outcome> {
  n += 1;
  const stream = `qt-fh-e2e-${n}`;
  const bucket = `qt-fh-e2e-${n}`;
  await createStreamToBucket(env, stream, bucket);
  const dir = tempDir('qt-fh-e2e-');
  const key = signingPair();
  const from = env.proxy.requests.length;
  let call = 0;
  env.proxy.setScript((req) => (req.operation === 'PutRecordBatch' && req.body.includes(stream) ? script(req, ++call) : undefined));
  const errors: Error[] = [];
  try {
    await runPgWorkload({
      dir,
      signingKey: key.privateKey,
      sinks: [firehoseSink({ deliveryStreamName: stream, clientConfig: env.sinkConfig(700), throttleRetryMs: 20 })],
      onSinkError: (e) => errors.push(e),
    });
  } finally {
    env.proxy.setScript(undefined);
  }

  const local = verifyJournal(dir, { publicKeys: [key.trusted] });
  assert.equal(local.ok && local.warnings === 0, true, `the local journal itself: ${JSON.stringify(local.findings)}`);
  const journal = journalLines(dir);
  const lines = await deliveredLines(env.s3, bucket);
  const delivered = dedup(lines);
  // Every journal line arrived, byte for byte, and nothing else did.
  assert.deepEqual([...delivered.keys()].sort(), journal.map((l) => l.dedupId).sort(), 'delivered set differs from the journal');
  for (const l of journal) assert.equal(delivered.get(l.dedupId), l.line, `line ${l.dedupId} changed on the way`);
  assert.ok(journal.some((l) => l.kind === 'checkpoint'), 'the journal has signed checkpoints');
  for (const l of journal) if (l.kind === 'event') assertValidEvent(JSON.parse(l.line));

  // What was delivered verifies on its own, signatures checked, anchored to the last record.
  const rebuilt = tempDir('qt-fh-rebuilt-');
  rebuildJournal(delivered.values(), rebuilt);
  const report = verifyJournal(rebuilt, { publicKeys: [key.trusted] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.warnings, 0, JSON.stringify(report.findings));
  assert.equal(report.chains[0]!.anchored, report.chains[0]!.records);

  const sent = env.proxy.requests.slice(from).filter((r) => r.operation === 'PutRecordBatch' && r.body.includes(stream));
  for (const r of sent) {
    assert.ok(r.records!.length <= 500, `a call carried ${r.records!.length} records`);
    assert.ok(r.records!.reduce((b, d) => b + d.length, 0) <= 4 * 1024 * 1024, 'a call carried more than 4 MiB');
  }
  return { sent, lines, errors };
}

const keysOf = (req: ProxiedRequest, indices?: readonly number[]): string[] =>
  (indices ?? req.records!.map((_, i) => i)).map((i) => dedupKey(req.records![i]!.toString('utf8').trimEnd()));

/**
 * Only failed records are resent: a record sent again must have been in a request that did not
 * store it (a whole-request fault) or that stored it without the client learning so (timeout).
 */
function assertOnlyFailedResent(sent: ProxiedRequest[]): void {
  const storedAndAcked = new Set<string>();
  for (const req of sent) {
    for (const k of keysOf(req)) assert.ok(!storedAndAcked.has(k), `${k} was resent although Firehose had accepted it (request ${req.n})`);
    if (req.fault === undefined && req.status === 200) for (const k of keysOf(req)) storedAndAcked.add(k);
    if (req.fault === 'partial') for (const k of keysOf(req, req.stored)) storedAndAcked.add(k);
  }
}

test('no faults: every line arrives exactly once and verifies', async () => {
  const { sent, lines } = await deliverUnder(() => undefined);
  assert.ok(sent.length >= 1);
  assert.equal(lines.length, new Set(lines.map(dedupKey)).size, 'no duplicates without faults');
  assertOnlyFailedResent(sent);
});

for (const kind of ['throttle', 'unavailable', 'error500'] as const) {
  test(`${kind}: the engine backs off and resends; nothing is lost, nothing reached moto twice`, async () => {
    const { sent, lines, errors } = await deliverUnder((_, call) => (call % 2 === 1 ? { kind } : undefined));
    const faulted = sent.filter((r) => r.fault === kind);
    assert.ok(faulted.length >= 2, `only ${faulted.length} faults were injected`);
    assert.ok(errors.some((e) => /retrying in/.test(e.message)), 'the engine reported the retries');
    assert.equal(lines.length, new Set(lines.map(dedupKey)).size, 'a refused request stores nothing, so no duplicates');
    assertOnlyFailedResent(sent);
  });
}

test('partial PutRecordBatch failures: only the failed records are resent', async () => {
  const { sent, lines } = await deliverUnder((_, call) => (call <= 6 ? { kind: 'partial', failRecord: (i) => i % 2 === 0 } : undefined));
  const partial = sent.filter((r) => r.fault === 'partial');
  assert.ok(partial.length >= 2);
  // The request after a partial failure carries exactly the records that failed in it.
  const first = partial[0]!;
  const next = sent[sent.indexOf(first) + 1]!;
  const failedKeys = keysOf(first).filter((_, i) => !first.stored!.includes(i));
  assert.deepEqual(keysOf(next), failedKeys);
  assert.equal(lines.length, new Set(lines.map(dedupKey)).size, 'the proxy stored only the accepted records: no duplicates');
  assertOnlyFailedResent(sent);
});

test('a timeout after the write succeeded: resent, duplicated, and complete after dedup', async () => {
  const { sent, lines } = await deliverUnder((_, call) => (call === 1 || call === 3 ? { kind: 'timeout-after-write' } : undefined));
  const hung = sent.filter((r) => r.fault === 'timeout-after-write');
  assert.equal(hung.length, 2);
  assert.ok(lines.length > new Set(lines.map(dedupKey)).size, 'the hung writes were stored and resent: duplicates exist');
  assertOnlyFailedResent(sent);
});

test('an outage across a restart delays delivery and loses nothing; the next start resumes from the cursor', async () => {
  n += 1;
  const stream = `qt-fh-e2e-${n}`;
  const bucket = `qt-fh-e2e-${n}`;
  await createStreamToBucket(env, stream, bucket);
  const dir = tempDir('qt-fh-restart-');
  const key = signingPair();
  const run = (closeTimeoutMs: number) =>
    runPgWorkload({
      dir,
      signingKey: key.privateKey,
      inserts: 12,
      closeTimeoutMs,
      sinks: [firehoseSink({ deliveryStreamName: stream, clientConfig: env.sinkConfig(700), throttleRetryMs: 20 })],
      onSinkError: () => {},
    });
  const ours = (r: ProxiedRequest): boolean => r.operation === 'PutRecordBatch' && r.body.includes(stream);

  await run(30_000); // first start: delivered
  const firstChain = journalLines(dir).map((l) => l.dedupId);
  assert.equal(dedup(await deliveredLines(env.s3, bucket)).size, firstChain.length);

  env.proxy.setScript((r) => (ours(r) ? { kind: 'unavailable' } : undefined));
  try {
    await run(300); // second start: Firehose is down the whole time; close gives up waiting
  } finally {
    env.proxy.setScript(undefined);
  }
  assert.equal(dedup(await deliveredLines(env.s3, bucket)).size, firstChain.length, 'nothing new got through the outage');

  const from = env.proxy.requests.length;
  await run(30_000); // third start: catches up from the cursor
  const journal = journalLines(dir);
  const lines = await deliveredLines(env.s3, bucket);
  const delivered = dedup(lines);
  assert.deepEqual([...delivered.keys()].sort(), journal.map((l) => l.dedupId).sort(), 'the outage lost nothing');
  const resent = env.proxy.requests
    .slice(from)
    .filter(ours)
    .flatMap((r) => keysOf(r))
    .filter((k) => firstChain.includes(k));
  assert.deepEqual(resent, [], 'lines delivered before the restart were not sent again');
  assert.equal(lines.length, delivered.size, 'no duplicates: the outage stored nothing and the cursor held');
  const rebuilt = tempDir('qt-fh-restart-rebuilt-');
  rebuildJournal(delivered.values(), rebuilt);
  const report = verifyJournal(rebuilt, { publicKeys: [key.trusted] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.chains.length, 3);
  assert.equal(report.warnings, 0, JSON.stringify(report.findings));
});
