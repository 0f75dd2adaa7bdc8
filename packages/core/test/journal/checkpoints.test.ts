import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createAuditor,
  type FindingCode,
  MerkleAccumulator,
  type QuerytrailEvent,
  trustedKey,
  type TrustedKey,
  verifyJournal,
} from '@querytrail/core';
import { tempDir } from '../support/temp-dir.js';
import { assertValidEvent } from '../support/event-schema.js';

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject; trusted: TrustedKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, trusted: trustedKey(publicKey) };
}

/** RFC 6962 §2.1 MTH, written the recursive way, to check the incremental accumulator against. */
function referenceRoot(leaves: Buffer[]): Buffer {
  const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  if (leaves.length === 0) return h();
  if (leaves.length === 1) return h(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return h(Buffer.from([1]), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

test('the incremental Merkle tree head equals RFC 6962 MTH for every size up to 70', () => {
  const acc = new MerkleAccumulator();
  const leaves: Buffer[] = [];
  assert.deepEqual(acc.root(), referenceRoot([]));
  for (let i = 0; i < 70; i++) {
    const leaf = createHash('sha256').update(String(i)).digest();
    leaves.push(leaf);
    acc.append(leaf);
    assert.deepEqual(acc.root(), referenceRoot(leaves), `size ${i + 1}`);
  }
});

async function signedJournal(privateKey: KeyObject, queries = 50, extra: object = {}): Promise<string> {
  const dir = tempDir('qt-ckpt-');
  const auditor = createAuditor({ service: { name: 'ckpt' }, journal: { dir, signingKey: privateKey, checkpointEvery: 16, segmentMaxBytes: 16384, ...extra } });
  for (let i = 0; i < queries; i++) {
    auditor.begin({ text: `DELETE FROM t WHERE id = ${i}`, db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsAffected: 1 });
    if (i % 10 === 0) await auditor.flush();
  }
  await auditor.close();
  return dir;
}

function invalidCodes(dir: string, keys: TrustedKey[]): FindingCode[] {
  return verifyJournal(dir, { publicKeys: keys }).findings.filter((f) => f.verdict === 'INVALID').map((f) => f.code);
}

function lastSegment(dir: string): string {
  return join(dir, readdirSync(dir).filter((f) => /-\d{6}\.jsonl$/.test(f)).sort().at(-1)!);
}

function checkpointFile(dir: string): string {
  return join(dir, readdirSync(dir).find((f) => f.endsWith('.checkpoints.jsonl'))!);
}

test('a signed journal verifies with its public key, anchored to the last record', async () => {
  const k = keyPair();
  const dir = await signedJournal(k.privateKey);
  const report = verifyJournal(dir, { publicKeys: [k.trusted] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.warnings, 0, JSON.stringify(report.findings));
  const chain = report.chains[0]!;
  assert.ok(chain.checkpoints >= 3, `only ${chain.checkpoints} checkpoints`);
  assert.equal(chain.anchored, chain.records);
  const cps = readFileSync(checkpointFile(dir), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(cps.at(-1).reason, 'close');
  // Every sealed segment ends exactly at a checkpoint: rotation anchors what it seals.
  const counts = new Set(cps.map((c) => c.count));
  for (const seg of report.segments.slice(0, -1)) assert.ok(counts.has(seg.last_seq!), `${seg.file} ends at seq ${seg.last_seq}, not at a checkpoint`);
  assert.ok(report.segments.length >= 3);
  // Without the key, the structure still checks out but the signatures are reported unchecked.
  const unchecked = verifyJournal(dir);
  assert.equal(unchecked.ok, true);
  assert.ok(unchecked.findings.some((f) => f.code === 'signatures_not_checked'));
});

test('a change to the LAST record, invisible to the chain alone, breaks the checkpoint', async () => {
  const k = keyPair();
  const dir = await signedJournal(k.privateKey);
  const seg = lastSegment(dir);
  const lines = readFileSync(seg, 'utf8').split('\n');
  const last = JSON.parse(lines.at(-2)!) as QuerytrailEvent;
  assert.equal(last.type, 'sdk.stop');
  last.source.host = 'elsewhere';
  lines[lines.length - 2] = JSON.stringify(last);
  writeFileSync(seg, lines.join('\n'));
  assert.deepEqual(invalidCodes(dir, [k.trusted]), ['checkpoint_mismatch']);
});

test('records cut from the end of a signed chain are reported missing', async () => {
  const k = keyPair();
  const dir = await signedJournal(k.privateKey);
  const seg = lastSegment(dir);
  const lines = readFileSync(seg, 'utf8').split('\n');
  writeFileSync(seg, `${lines.slice(0, -3).join('\n')}\n`);
  assert.ok(invalidCodes(dir, [k.trusted]).includes('gap'));
});

test('a replaced checkpoint fails its signature; one re-signed with another key is an unknown key', async () => {
  const k = keyPair();
  const dir = await signedJournal(k.privateKey);
  const file = checkpointFile(dir);
  const original = readFileSync(file, 'utf8');
  const cps = original.trim().split('\n').map((l) => JSON.parse(l));
  cps[1].count -= 1;
  writeFileSync(file, `${cps.map((c) => JSON.stringify(c)).join('\n')}\n`);
  assert.ok(invalidCodes(dir, [k.trusted]).includes('signature_failed'));

  // An attacker with their own key rewrites the journal from scratch: the verifier does not trust that key.
  const attacker = keyPair();
  const forged = await signedJournal(attacker.privateKey);
  assert.ok(invalidCodes(forged, [k.trusted]).includes('unknown_key'));
});

test('a deleted checkpoint file of a signed chain is not_found; a key outside its validity is rejected', async () => {
  const k = keyPair();
  const dir = await signedJournal(k.privateKey);
  const expired = trustedKey(k.publicKey, { notAfter: '2000-01-01T00:00:00.000000Z' });
  assert.ok(invalidCodes(dir, [expired]).includes('key_not_valid'));
  rmSync(checkpointFile(dir));
  assert.ok(invalidCodes(dir, [k.trusted]).includes('not_found'));
});

test('an idle journal writes heartbeats and checkpoints on the interval', async () => {
  const k = keyPair();
  const dir = tempDir('qt-idle-');
  const auditor = createAuditor({ service: { name: 'idle' }, journal: { dir, signingKey: k.privateKey, checkpointIntervalMs: 40 } });
  await new Promise((r) => setTimeout(r, 300));
  await auditor.close();
  const records = readFileSync(lastSegment(dir), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as QuerytrailEvent);
  const heartbeats = records.filter((r) => r.type === 'heartbeat');
  assert.ok(heartbeats.length >= 2, `expected heartbeats, got ${heartbeats.length}`);
  heartbeats.forEach(assertValidEvent);
  const cps = readFileSync(checkpointFile(dir), 'utf8').trim().split('\n');
  assert.ok(cps.length >= 3);
  assert.equal(verifyJournal(dir, { publicKeys: [k.trusted] }).ok, true);
});

test('crash recovery: a torn last line is set aside and the new chain says so and links to the last complete record', async () => {
  const dir = tempDir('qt-crash-');
  const first = createAuditor({ service: { name: 'crash' }, journal: { dir } });
  first.begin({ text: 'SELECT 1', db: { system: 'postgresql', driver: 'pg' } }).succeed();
  await first.close();
  const seg = lastSegment(dir);
  const before = readFileSync(seg);
  appendFileSync(seg, '{"schema":"querytrail.event/1","event_id":"01a2'); // an interrupted write
  assert.ok(verifyJournal(dir).findings.some((f) => f.code === 'torn_line'));

  const second = createAuditor({ service: { name: 'crash' }, journal: { dir } });
  await second.close();
  assert.deepEqual(readFileSync(seg), before, 'the segment is cut back to its last complete line');
  assert.equal(readFileSync(`${seg}.torn`, 'utf8'), '{"schema":"querytrail.event/1","event_id":"01a2');
  const segs = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  const genesis = JSON.parse(readFileSync(join(dir, segs.at(-1)!), 'utf8').split('\n')[0]!) as QuerytrailEvent;
  assert.equal(genesis.genesis?.reason, 'crash_recovery');
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.ok(!report.findings.some((f) => f.code === 'torn_line'));
});

test('sync mode: the attempt record is on disk before the statement may be sent', async () => {
  const dir = tempDir('qt-sync-');
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name: 'sync' }, journal: { dir, mode: 'sync' }, onEvent: (e) => events.push(e) });
  const handles = Array.from({ length: 20 }, (_, i) =>
    auditor.begin({ text: `UPDATE t SET n = ${i} WHERE id = 1`, db: { system: 'postgresql', driver: 'pg' } }),
  );
  for (const h of handles) assert.ok(h.ready instanceof Promise);
  await Promise.all(handles.map((h) => h.ready));
  // Read synchronously right after `ready`: every attempt must already be in the file.
  const onDisk = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as QuerytrailEvent);
  const attempts = onDisk.filter((e) => e.type === 'db.query.attempt');
  assert.equal(attempts.length, 20);
  attempts.forEach(assertValidEvent);
  for (const h of handles) h.succeed({ rowsAffected: 1 });
  await auditor.close();
  const done = events.filter((e) => e.type === 'db.query');
  assert.deepEqual(new Set(done.map((e) => e.attempt_id)), new Set(attempts.map((a) => a.event_id)));
  assert.equal(verifyJournal(dir).ok, true);
});

test('sync mode: when the journal cannot store the attempt, the statement is refused and recorded as blocked', async () => {
  const dir = tempDir('qt-sync-fail-');
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name: 'sync' }, journal: { dir, mode: 'sync', syncTimeoutMs: 100 }, onEvent: (e) => events.push(e), });
  await auditor.flush();
  // Stand-in for a failing disk (as root, permissions cannot be used to make a write fail).
  const journal = auditor.journal as unknown as { file: unknown; onError: (e: Error) => void };
  journal.file = { write: () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })), datasync: async () => {}, sync: async () => {}, close: async () => {} };
  journal.onError = () => {};
  const h = auditor.begin({ text: 'DROP TABLE accounts', db: { system: 'postgresql', driver: 'pg' } });
  await assert.rejects(h.ready!, (e: Error & { code?: string }) => e.code === 'QT_ERR_JOURNAL_UNAVAILABLE');
  const blocked = events.find((e) => e.type === 'db.query');
  assert.equal(blocked?.result?.outcome, 'blocked');
  assert.equal(blocked?.result?.error?.code, 'QT_ERR_JOURNAL_UNAVAILABLE');
  // The disk "recovers": the writer's retry reopens a real segment and everything queued gets written.
  journal.file = undefined;
  await auditor.close();
  assert.ok(existsSync(dir));
  assert.equal(verifyJournal(dir).ok, true);
});

test('deleting every segment of a signed chain is reported: its checkpoint file remains', async () => {
  const k = keyPair();
  const dir = tempDir('qt-delchain-');
  for (let run = 0; run < 2; run++) {
    const a = createAuditor({ service: { name: 'del' }, journal: { dir, signingKey: k.privateKey } });
    await a.close();
  }
  const chains = [...new Set(readdirSync(dir).filter((f) => /-\d{6}\.jsonl$/.test(f)).map((f) => f.slice(3, 39)))].sort();
  for (const f of readdirSync(dir)) if (f.startsWith(`qt-${chains[1]}-`)) rmSync(join(dir, f));
  assert.ok(invalidCodes(dir, [k.trusted]).includes('not_found'));
});

test('recovery never cuts a sealed segment: a torn tail there stays for the verifier to report', async () => {
  const dir = tempDir('qt-sealed-');
  const a = createAuditor({ service: { name: 'sealed' }, journal: { dir, segmentMaxBytes: 4096 } });
  for (let i = 0; i < 40; i++) a.begin({ text: `SELECT ${i}`, db: { system: 'postgresql', driver: 'pg' } }).succeed();
  await a.close();
  const segs = readdirSync(dir).filter((f) => /-\d{6}\.jsonl$/.test(f)).sort();
  assert.ok(segs.length >= 3, `only ${segs.length} segments`);
  const sealed = join(dir, segs.at(-2)!);
  appendFileSync(sealed, '{"partial":');
  writeFileSync(join(dir, segs.at(-1)!), ''); // the newest segment is empty, so recovery looks further back
  const b = createAuditor({ service: { name: 'sealed' }, journal: { dir } });
  await b.close();
  assert.ok(readFileSync(sealed, 'utf8').endsWith('{"partial":'), 'the sealed segment was not modified');
  const report = verifyJournal(dir);
  // Still reported (WARN: with the empty newest segment set aside, it is the chain's last segment now).
  assert.ok(report.findings.some((f) => f.code === 'torn_line' && f.segment === segs.at(-2)), JSON.stringify(report.findings));
});

test('events that arrive while close() runs are written before the final checkpoint, never after it (no unanchored tail)', async () => {
  const k = keyPair();
  const dir = tempDir('qt-ckpt-close-');
  const warnings: string[] = [];
  const auditor = createAuditor({
    service: { name: 'ckpt-close' },
    journal: { dir, signingKey: k.privateKey, onError: (e) => warnings.push(e.message) },
    closeOnExit: false,
  });
  await auditor.ready();
  // A steady trickle of statements (as a pool's disconnects are) that keeps coming during close().
  let stop = false;
  let sent = 0;
  const trickle = (async () => {
    while (!stop) {
      auditor.begin({ text: `SELECT ${sent}`, db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsReturned: 1 });
      sent++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  await new Promise((r) => setTimeout(r, 20));
  await auditor.close();
  stop = true;
  await trickle;
  const report = verifyJournal(dir, { publicKeys: [k.trusted] });
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.deepEqual(
    report.findings.filter((f) => f.verdict === 'WARN').map((f) => f.code),
    [],
    'the last record is covered by the final checkpoint',
  );
  // Whatever came after close() finished is reported, never silently lost.
  const lines = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl') && !f.includes('checkpoints'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
  const written = lines.filter((l) => (JSON.parse(l) as QuerytrailEvent).type === 'db.query').length;
  const reported = warnings.filter((w) => w.includes('emitted after close()')).length;
  assert.equal(written + reported, sent, `${written} written + ${reported} reported = ${sent} sent`);
});
