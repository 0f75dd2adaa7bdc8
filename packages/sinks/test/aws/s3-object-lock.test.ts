import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  DeleteObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { ConfigError, createAuditor, type SinkFile, verifyJournal } from '@querytrail/core';
import { AwsSinkError, s3ObjectLockSink } from '@querytrail/sinks/s3';
import { tempDir } from '../../../core/test/support/temp-dir.js';
import { createBucket, getBytes, listKeys, startAwsEnv } from '../support/aws-env.js';
import { type ProxiedRequest, sha256Base64 } from '../support/fault-proxy.js';
import { runPgWorkload, signingPair } from '../support/aws-journal.js';
import { TEST_CREDENTIALS } from '../support/moto.js';

// The S3 Object Lock sink with the real AWS SDK client against moto_server through the fault proxy.
// What moto does not emulate is said where it matters: it does not verify x-amz-checksum-sha256
// (the proxy does, below), and it does not implement GetObjectRetention (HeadObject carries the
// retention instead).

const env = await startAwsEnv();
const DAY = 86_400_000;
let buckets = 0;

async function lockedBucket(): Promise<string> {
  buckets += 1;
  const b = `qt-s3-lock-${buckets}`;
  await createBucket(env.s3, b, true);
  return b;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('base64');
const puts = (from: number, bucket: string): ProxiedRequest[] => env.proxy.requests.slice(from).filter((r) => r.method === 'PUT' && r.path.startsWith(`/${bucket}/`));

/** A real journal (pg workload, signed) without sinks, for direct write() tests. */
async function journalFiles(): Promise<{ dir: string; segments: SinkFile[]; checkpoints: SinkFile }> {
  const dir = tempDir('qt-s3-direct-');
  await runPgWorkload({ dir, signingKey: signingPair().privateKey, inserts: 24, segmentMaxBytes: 8192 });
  const files = readdirSync(dir).sort();
  const file = (name: string, kind: SinkFile['kind']): SinkFile => ({
    kind,
    chainId: /^qt-([0-9a-f-]{36})/.exec(name)![1]!,
    name,
    path: join(dir, name),
    bytes: statSync(join(dir, name)).size,
  });
  return {
    dir,
    segments: files.filter((f) => /-\d{6}\.jsonl$/.test(f)).map((f) => file(f, 'segment')),
    checkpoints: file(files.find((f) => f.endsWith('.checkpoints.jsonl'))!, 'checkpoints'),
  };
}

test('settings are validated at configuration time, naming the field', () => {
  const ok = { bucket: 'audit-bucket', mode: 'GOVERNANCE', retainDays: 30 };
  const bad: [object, string][] = [
    [{ ...ok, bucket: undefined }, 's3.bucket'],
    [{ ...ok, bucket: 'Not_A_Bucket' }, 's3.bucket'],
    [{ ...ok, mode: 'governance' }, 's3.mode'],
    [{ ...ok, retainDays: undefined }, 's3.retainDays'],
    [{ ...ok, retainUntil: () => new Date() }, 's3.retainDays'],
    [{ ...ok, retainDays: -1 }, 's3.retainDays'],
    [{ ...ok, retainDays: undefined, retainUntil: 'tomorrow' }, 's3.retainUntil'],
    [{ ...ok, prefix: '/abs' }, 's3.prefix'],
    [{ ...ok, legalHold: 'yes' }, 's3.legalHold'],
    [{ ...ok, concurrency: 1.5 }, 's3.concurrency'],
    [{ ...ok, client: {}, clientConfig: {} }, 's3.clientConfig'],
  ];
  for (const [options, path] of bad) {
    assert.throws(
      () => s3ObjectLockSink(options as never),
      (e: unknown) => e instanceof ConfigError && e.path === path,
      `${JSON.stringify(options)} should fail at ${path}`,
    );
  }
  const sink = s3ObjectLockSink({ ...ok, mode: 'GOVERNANCE', prefix: 'audit/api', clientConfig: env.sinkConfig() });
  assert.equal(sink.name, 's3-audit-bucket');
  assert.equal(sink.accepts, 'files');
});

test('start() refuses a bucket without Object Lock, with a clear error naming s3.bucket; the auditor reports it', async () => {
  await createBucket(env.s3, 'qt-s3-no-lock', false);
  const sink = s3ObjectLockSink({ bucket: 'qt-s3-no-lock', mode: 'GOVERNANCE', retainDays: 1, clientConfig: env.sinkConfig() });
  await assert.rejects(sink.start!(), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.path, 's3.bucket');
    assert.match(e.message, /bucket "qt-s3-no-lock" has no Object Lock configuration/);
    assert.match(e.message, /object-lock-enabled-for-bucket/, 'says how to fix it');
    return true;
  });
  const missing = s3ObjectLockSink({ bucket: 'qt-s3-missing', mode: 'GOVERNANCE', retainDays: 1, clientConfig: env.sinkConfig() });
  await assert.rejects(missing.start!(), (e: unknown) => e instanceof ConfigError && e.path === 's3.bucket' && /does not exist/.test(e.message));
  await sink.close();
  await missing.close();

  // Through createAuditor: nothing is shipped, and sinksReady() rejects with the same ConfigError.
  const dir = tempDir('qt-s3-refused-');
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  const auditor = createAuditor({
    service: { name: 'refused' },
    journal: { dir },
    sinks: [s3ObjectLockSink({ bucket: 'qt-s3-no-lock', mode: 'COMPLIANCE', retainDays: 1, clientConfig: env.sinkConfig() })],
    delivery: { closeTimeoutMs: 500 },
  });
  await assert.rejects(auditor.sinksReady(), (e: unknown) => e instanceof ConfigError && e.path === 's3.bucket');
  await auditor.close();
  process.removeListener('warning', onWarning);
  assert.deepEqual(await listKeys(env.s3, 'qt-s3-no-lock'), [], 'nothing was written to the unlocked bucket');
  for (const w of warnings) assert.ok(!w.includes(TEST_CREDENTIALS.secretAccessKey));
});

test('end to end under faults: segments and checkpoints arrive locked, with legal hold and checksums, and verify', async () => {
  const bucket = await lockedBucket();
  const dir = tempDir('qt-s3-e2e-');
  const key = signingPair();
  const from = env.proxy.requests.length;
  let n = 0;
  // SlowDown, 500, a timeout after the PUT was stored, and a 503, among the first PUTs.
  const faults = new Map<number, 'throttle' | 'error500' | 'timeout-after-write' | 'unavailable'>([
    [1, 'throttle'],
    [3, 'error500'],
    [5, 'timeout-after-write'],
    [8, 'unavailable'],
  ]);
  env.proxy.setScript((r) => {
    if (r.method !== 'PUT' || !r.path.startsWith(`/${bucket}/`)) return undefined;
    const kind = faults.get(++n);
    return kind ? { kind } : undefined;
  });
  const errors: Error[] = [];
  const sink = s3ObjectLockSink({
    bucket,
    prefix: 'audit/billing-api',
    mode: 'GOVERNANCE',
    retainDays: 1,
    legalHold: true,
    clientConfig: env.sinkConfig(800),
    throttleRetryMs: 20,
    onError: (e) => errors.push(e),
  });
  const startedAt = Date.now();
  try {
    await runPgWorkload({ dir, signingKey: key.privateKey, sinks: [sink], inserts: 80, segmentMaxBytes: 8192, onSinkError: (e) => errors.push(e) });
  } finally {
    env.proxy.setScript(undefined);
  }
  const endedAt = Date.now();
  assert.equal(verifyJournal(dir, { publicKeys: [key.trusted] }).ok, true, 'the local journal verifies');
  const injected = env.proxy.requests.slice(from).filter((r) => r.fault).map((r) => r.fault);
  assert.deepEqual(injected, ['throttle', 'error500', 'timeout-after-write', 'unavailable']);
  assert.ok(errors.length >= 4, `the engine reported each failed write: ${errors.map((e) => e.message).join('\n')}`);
  for (const e of errors) {
    assert.ok(!`${e.message} ${e.stack ?? ''}`.includes(TEST_CREDENTIALS.secretAccessKey), 'a report carries the secret key');
    assert.ok(!e.message.includes(TEST_CREDENTIALS.accessKeyId), 'a report carries the access key id');
  }

  // Every local journal file is in the bucket under <prefix><file name>, byte for byte.
  const local = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  assert.ok(local.filter((f) => /-\d{6}\.jsonl$/.test(f)).length >= 3, 'several segments were sealed');
  const keys = await listKeys(env.s3, bucket, 'audit/billing-api/');
  assert.deepEqual(keys, local.map((f) => `audit/billing-api/${f}`));
  const download = tempDir('qt-s3-download-');
  for (const f of local) {
    const k = `audit/billing-api/${f}`;
    const body = await getBytes(env.s3, bucket, k);
    assert.deepEqual(body, readFileSync(join(dir, f)), `${k} differs from the local file`);
    writeFileSync(join(download, f), body);
    const head = await env.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: k, ChecksumMode: 'ENABLED' }));
    assert.equal(head.ObjectLockMode, 'GOVERNANCE', k);
    assert.equal(head.ObjectLockLegalHoldStatus, 'ON', k);
    assert.equal(head.ChecksumSHA256, sha256(body), k);
    const until = head.ObjectLockRetainUntilDate!.getTime();
    assert.ok(until >= startedAt + DAY - 2000 && until <= endedAt + DAY + 2000, `${k}: retain until ${head.ObjectLockRetainUntilDate?.toISOString()}`);
  }
  const hold = await env.s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: keys[0] }));
  assert.equal(hold.LegalHold?.Status, 'ON');

  // A checksum on every PUT, and it is right: moto does not check it, so the proxy does.
  const sent = puts(from, bucket);
  assert.ok(sent.length >= local.length);
  for (const r of sent) {
    assert.equal(r.headers['x-amz-checksum-sha256'], sha256Base64(r.body), `${r.path}: checksum header missing or wrong`);
    assert.equal(r.headers['x-amz-object-lock-mode'], 'GOVERNANCE');
    assert.equal(r.headers['x-amz-object-lock-legal-hold'], 'ON');
    assert.ok(r.headers['x-amz-object-lock-retain-until-date']);
  }

  // Segments are write-once: the resend after the timeout found its own bytes and stopped.
  assert.ok(sink.stats.alreadyStored >= 1, JSON.stringify(sink.stats));
  const versions = await env.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'audit/billing-api/' }));
  const byKey = new Map<string, string[]>();
  for (const v of versions.Versions ?? []) byKey.set(v.Key!, [...(byKey.get(v.Key!) ?? []), v.VersionId!]);
  for (const [k, vs] of byKey) if (!k.endsWith('.checkpoints.jsonl')) assert.equal(vs.length, 1, `${k} has ${vs.length} versions`);
  // Checkpoint snapshots: versions of one key (how many depends on how the engine batched), each a prefix of the latest.
  const cpKey = keys.find((k) => k.endsWith('.checkpoints.jsonl'))!;
  const cpVersions = byKey.get(cpKey)!;
  assert.ok(cpVersions.length >= 1);
  const latest = await getBytes(env.s3, bucket, cpKey);
  for (const v of cpVersions) {
    const older = await getBytes(env.s3, bucket, cpKey, v);
    assert.deepEqual(latest.subarray(0, older.length), older, `checkpoint version ${v} is not a prefix of the latest`);
    const h = await env.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: cpKey, VersionId: v }));
    assert.equal(h.ObjectLockMode, 'GOVERNANCE', 'every snapshot version is locked');
  }

  // What was downloaded verifies on its own, signatures checked, anchored to the end.
  const report = verifyJournal(download, { publicKeys: [key.trusted] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.warnings, 0, JSON.stringify(report.findings));
  assert.equal(report.chains[0]!.anchored, report.chains[0]!.records);

  // Object Lock holds: a locked version cannot be deleted.
  await assert.rejects(
    env.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[0], VersionId: byKey.get(keys[0]!)![0] })),
    (e: unknown) => (e as Error).name === 'AccessDenied',
  );
});

test('a resent segment is idempotent; other bytes under the same name are kept aside and reported, never overwritten', async () => {
  const bucket = await lockedBucket();
  const { dir, segments } = await journalFiles();
  const errors: Error[] = [];
  const sink = s3ObjectLockSink({ bucket, mode: 'GOVERNANCE', retainDays: 1, clientConfig: env.sinkConfig(), onError: (e) => errors.push(e) });
  await sink.start!();
  const first = segments[0]!;
  assert.deepEqual(await sink.write({ type: 'files', files: [first] }), {});
  assert.deepEqual(await sink.write({ type: 'files', files: [first] }), {});
  assert.deepEqual(sink.stats, { objectsPut: 1, alreadyStored: 1, conflicts: 0 });
  const original = readFileSync(first.path);

  // The local segment is rewritten after it was shipped (what an intruder would do).
  const tampered = tempDir('qt-s3-tampered-');
  copyFileSync(first.path, join(tampered, first.name));
  appendFileSync(join(tampered, first.name), '{"forged":true}\n');
  const forged: SinkFile = { ...first, path: join(tampered, first.name), bytes: statSync(join(tampered, first.name)).size };
  assert.deepEqual(await sink.write({ type: 'files', files: [forged] }), {}, 'accepted: the loop must not spin on it');
  assert.equal(sink.stats.conflicts, 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /already holds different bytes/);
  assert.deepEqual(await getBytes(env.s3, bucket, first.name), original, 'the shipped original is untouched');
  const keys = await listKeys(env.s3, bucket);
  const aside = keys.find((k) => k.startsWith(`${first.name}.conflict-`));
  assert.ok(aside, `no conflict copy among ${keys.join(', ')}`);
  assert.deepEqual(await getBytes(env.s3, bucket, aside), readFileSync(forged.path));
  const versions = await env.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: first.name }));
  assert.equal(versions.Versions?.filter((v) => v.Key === first.name).length, 1);
  assert.ok(dir);
  await sink.close();
});

test('checkpoint snapshots: each growth is a new locked version of one key; an older snapshot never becomes the latest', async () => {
  const bucket = await lockedBucket();
  const { checkpoints } = await journalFiles();
  const full = readFileSync(checkpoints.path);
  const firstLine = full.indexOf(0x0a) + 1;
  assert.ok(firstLine > 0 && firstLine < full.length, 'the journal has more than one checkpoint');
  const early: SinkFile = { ...checkpoints, bytes: firstLine };
  const sink = s3ObjectLockSink({ bucket, mode: 'GOVERNANCE', retainDays: 1, clientConfig: env.sinkConfig() });
  assert.deepEqual(await sink.write({ type: 'files', files: [early] }), {});
  assert.deepEqual(await sink.write({ type: 'files', files: [checkpoints] }), {});
  // Resending either snapshot changes nothing: same bytes, or an older snapshot of what is stored.
  assert.deepEqual(await sink.write({ type: 'files', files: [checkpoints] }), {});
  assert.deepEqual(await sink.write({ type: 'files', files: [early] }), {});
  assert.deepEqual(sink.stats, { objectsPut: 2, alreadyStored: 2, conflicts: 0 });
  const versions = (await env.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: checkpoints.name }))).Versions ?? [];
  assert.equal(versions.length, 2);
  assert.deepEqual(await getBytes(env.s3, bucket, checkpoints.name), full, 'the latest version is the full snapshot');
  const old = versions.find((v) => !v.IsLatest)!;
  assert.deepEqual(await getBytes(env.s3, bucket, checkpoints.name, old.VersionId), full.subarray(0, firstLine));
  for (const v of versions) {
    const h = await env.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: checkpoints.name, VersionId: v.VersionId }));
    assert.equal(h.ObjectLockMode, 'GOVERNANCE');
  }
  await sink.close();
});

test('COMPLIANCE mode with retainUntil(file), no legal hold', async () => {
  const bucket = await lockedBucket();
  const { segments, checkpoints } = await journalFiles();
  const until = new Date(Date.now() + 7 * DAY);
  until.setUTCMilliseconds(0);
  const seen: string[] = [];
  const sink = s3ObjectLockSink({
    bucket,
    prefix: 'c/',
    mode: 'COMPLIANCE',
    retainUntil: (f) => {
      seen.push(f.name);
      return until;
    },
    clientConfig: env.sinkConfig(),
  });
  assert.deepEqual(await sink.write({ type: 'files', files: [...segments, checkpoints] }), {});
  assert.deepEqual(seen.sort(), [...segments, checkpoints].map((f) => f.name).sort());
  const head = await env.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `c/${checkpoints.name}` }));
  assert.equal(head.ObjectLockMode, 'COMPLIANCE');
  assert.equal(head.ObjectLockRetainUntilDate?.getTime(), until.getTime());
  assert.equal(head.ObjectLockLegalHoldStatus ?? 'OFF', 'OFF');
  const cfg = await env.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  assert.equal(cfg.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  // A retainUntil that returns the past is refused, naming the setting.
  const past = s3ObjectLockSink({ bucket, mode: 'COMPLIANCE', retainUntil: () => new Date(0), clientConfig: env.sinkConfig(), name: 'past' });
  await assert.rejects(past.write({ type: 'files', files: [segments[0]!] }), (e: unknown) => e instanceof ConfigError && e.path === 's3.retainUntil');
  await sink.close();
  await past.close();
});

test('write(): a whole-batch throttle throws with retryAfterMs; a failed file among others is returned by index', async () => {
  const bucket = await lockedBucket();
  const { segments } = await journalFiles();
  const sink = s3ObjectLockSink({ bucket, mode: 'GOVERNANCE', retainDays: 1, clientConfig: env.sinkConfig(), throttleRetryMs: 123, concurrency: 1, onError: () => {} });
  env.proxy.failNext((r) => r.method === 'PUT' && r.path.startsWith(`/${bucket}/`), 'throttle');
  await assert.rejects(sink.write({ type: 'files', files: [segments[0]!] }), (e: unknown) => {
    assert.ok(e instanceof AwsSinkError, String(e));
    assert.equal(e.awsErrorName, 'SlowDown');
    assert.equal(e.retryAfterMs, 123);
    return true;
  });
  env.proxy.failNext((r) => r.method === 'PUT' && r.path.startsWith(`/${bucket}/${segments[1]!.name}?`), 'error500');
  const res = await sink.write({ type: 'files', files: [segments[0]!, segments[1]!, segments[2]!] });
  assert.deepEqual(res, { failed: [1] });
  assert.deepEqual(await listKeys(env.s3, bucket), [segments[0]!.name, segments[2]!.name].sort());
  await sink.close();
});

test('S3 down for a whole run: nothing is lost; the next start ships both chains from the cursor and they verify together', async () => {
  const bucket = await lockedBucket();
  const dir = tempDir('qt-s3-restart-');
  const key = signingPair();
  const run = (closeTimeoutMs: number) =>
    runPgWorkload({
      dir,
      signingKey: key.privateKey,
      inserts: 30,
      segmentMaxBytes: 8192,
      closeTimeoutMs,
      sinks: [s3ObjectLockSink({ bucket, mode: 'GOVERNANCE', retainDays: 1, clientConfig: env.sinkConfig(800), throttleRetryMs: 20, onError: () => {} })],
      onSinkError: () => {},
    });
  // Start succeeds (the lock check goes through); every object request then gets SlowDown.
  env.proxy.setScript((r) => (r.path.startsWith(`/${bucket}/`) ? { kind: 'throttle' } : undefined));
  try {
    await run(300);
  } finally {
    env.proxy.setScript(undefined);
  }
  assert.deepEqual(await listKeys(env.s3, bucket), [], 'nothing got through the outage');
  const from = env.proxy.requests.length;
  await run(30_000);
  const local = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  assert.equal(local.filter((f) => f.endsWith('.checkpoints.jsonl')).length, 2, 'two chains');
  assert.deepEqual(await listKeys(env.s3, bucket), local);
  const download = tempDir('qt-s3-restart-download-');
  for (const f of local) writeFileSync(join(download, f), await getBytes(env.s3, bucket, f));
  const report = verifyJournal(download, { publicKeys: [key.trusted] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.warnings, 0, JSON.stringify(report.findings));
  assert.equal(report.chains.length, 2);
  // Each segment was PUT once after the restart: the cursor, not luck, decided what to send.
  const segmentPuts = puts(from, bucket).filter((r) => /-\d{6}\.jsonl\?/.test(r.path));
  assert.equal(segmentPuts.length, local.filter((f) => /-\d{6}\.jsonl$/.test(f)).length);
});
