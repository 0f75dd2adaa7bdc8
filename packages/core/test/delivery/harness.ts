/**
 * Shared by the delivery engine tests and the @querytrail/sinks tests: a journal written by a real
 * auditor, an in-memory sink whose failures a test scripts, and the checks every delivery test makes
 * (every journal record arrived, and what arrived, put back into files, passes verifyJournal).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Auditor,
  type AuditorOptions,
  createAuditor,
  parseSegmentName,
  type Sink,
  type SinkBatch,
  type SinkFile,
  type SinkRecord,
  type SinkWriteResult,
  trustedKey,
  type TrustedKey,
  verifyJournal,
} from '@querytrail/core';

export interface TestKey {
  privateKey: KeyObject;
  trusted: TrustedKey;
}

export function testKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, trusted: trustedKey(publicKey) };
}

/** An auditor with a signed journal in `dir` that rotates often (small segments, frequent checkpoints). */
export function journalAuditor(dir: string, key: TestKey, extra: Partial<AuditorOptions> = {}): Auditor {
  return createAuditor({
    service: { name: 'delivery-test' },
    journal: { dir, signingKey: key.privateKey, checkpointEvery: 25, segmentMaxBytes: 16 * 1024, lingerMs: 0 },
    catalog: { mode: false },
    delivery: { pollIntervalMs: 20, backoff: { initialMs: 5, maxMs: 80 } },
    ...extra,
  });
}

/** Records `n` statements (no database needed: the auditor's recorder interface, as a driver wrapper uses it). */
export async function recordStatements(auditor: Auditor, n: number, tag = 'q'): Promise<void> {
  // Until the SQL parsers are loaded, completed statements wait for analysis and flush() would not see them.
  await auditor.ready();
  for (let i = 0; i < n; i++) {
    auditor.begin({ text: `UPDATE accounts_${tag} SET n = n + 1 WHERE id = ${i}`, db: { system: 'postgresql', driver: 'pg' } }).succeed({ rowsAffected: 1 });
    if (i % 20 === 19) await auditor.flush();
  }
  await auditor.flush();
}

/** What a correct receiver keeps: one entry per dedupId. */
export interface JournalIds {
  events: Set<string>;
  checkpoints: Set<string>;
}

/** Every record id in the journal directory, read straight from the files. */
export function journalIds(dir: string): JournalIds {
  const events = new Set<string>();
  const checkpoints = new Set<string>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.startsWith('qt-') || !f.endsWith('.jsonl')) continue;
    const lines = readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.length > 0);
    if (parseSegmentName(f)) {
      for (const l of lines) events.add((JSON.parse(l) as { event_id: string }).event_id);
    } else {
      const m = /^qt-(.+)\.checkpoints\.jsonl$/.exec(f);
      if (m) for (let i = 1; i <= lines.length; i++) checkpoints.add(`checkpoint:${m[1]}:${i}`);
    }
  }
  return { events, checkpoints };
}

/** Asserts that the received records (deduplicated) are exactly the journal's, none missing, none extra. */
export function assertAllArrived(dir: string, received: Iterable<SinkRecord>): Map<string, SinkRecord> {
  const byId = new Map<string, SinkRecord>();
  for (const r of received) {
    const seen = byId.get(r.dedupId);
    if (seen) assert.equal(seen.line, r.line, `a resend of ${r.dedupId} must carry the same bytes`);
    byId.set(r.dedupId, r);
  }
  const ids = journalIds(dir);
  assert.ok(ids.events.size > 0 && ids.checkpoints.size > 0, 'the journal has events and checkpoints');
  const missing = [...ids.events, ...ids.checkpoints].filter((id) => !byId.has(id));
  assert.deepEqual(missing, [], `${missing.length} journal records never arrived`);
  assert.equal(byId.size, ids.events.size + ids.checkpoints.size, 'nothing arrived that is not in the journal');
  return byId;
}

/**
 * Rebuilds segment and checkpoint files from delivered records (order by seq / checkpoint index, as a
 * receiver would), and returns the directory. The files must be byte-identical to the journal's.
 */
export function reassembleRecords(records: Iterable<SinkRecord>, outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  const byFile = new Map<string, { order: number; line: string }[]>();
  for (const r of records) {
    const order = r.kind === 'event' ? (JSON.parse(r.line) as { integrity: { seq: number } }).integrity.seq : Number(r.dedupId.split(':')[2]);
    const list = byFile.get(r.file) ?? [];
    list.push({ order, line: r.line });
    byFile.set(r.file, list);
  }
  for (const [file, list] of byFile) {
    list.sort((a, b) => a.order - b.order);
    writeFileSync(join(outDir, file), list.map((e) => `${e.line}\n`).join(''));
  }
  return outDir;
}

/**
 * Journal lines as a line-oriented receiver got them (stdout, OTel bodies, NATS payloads): turned back
 * into records, with the event_id / checkpoint index a receiver dedups by, and one segment per chain
 * (segment boundaries are not in the lines; verify does not need them).
 */
export function recordsFromLines(lines: Iterable<string>): SinkRecord[] {
  const out: SinkRecord[] = [];
  for (const line of lines) {
    const v = JSON.parse(line) as { schema: string; event_id?: string; chain_id?: string; index?: number; integrity?: { chain_id: string } };
    if (v.schema === 'querytrail.checkpoint/1') {
      out.push({ kind: 'checkpoint', line, chainId: v.chain_id!, dedupId: `checkpoint:${v.chain_id}:${v.index}`, file: `qt-${v.chain_id}.checkpoints.jsonl` });
    } else {
      const chain = v.integrity!.chain_id;
      out.push({ kind: 'event', line, chainId: chain, dedupId: v.event_id!, file: `qt-${chain}-000001.jsonl` });
    }
  }
  return out;
}

/** The delivered copy passes verify with the signing key and covers every record, anchored by the same checkpoints. */
export function assertVerifies(journalDir: string, copyDir: string, key: TestKey): void {
  const report = verifyJournal(copyDir, { publicKeys: [key.trusted] });
  assert.equal(report.invalid, 0, JSON.stringify(report.findings.filter((f) => f.verdict === 'INVALID')));
  assert.ok(report.ok);
  const original = verifyJournal(journalDir, { publicKeys: [key.trusted] });
  assert.equal(report.records, original.records, 'the copy holds every record');
  assert.deepEqual(
    report.chains.map((c) => [c.chain_id, c.anchored, c.checkpoints]),
    original.chains.map((c) => [c.chain_id, c.anchored, c.checkpoints]),
    'the same checkpoints anchor the same records',
  );
}

/** The delivered copy passes verify with the signing key, covers every record, and equals the journal byte for byte. */
export function assertVerifiedCopy(journalDir: string, copyDir: string, key: TestKey): void {
  const report = verifyJournal(copyDir, { publicKeys: [key.trusted] });
  assert.equal(report.invalid, 0, JSON.stringify(report.findings.filter((f) => f.verdict === 'INVALID')));
  assert.ok(report.ok);
  const original = verifyJournal(journalDir, { publicKeys: [key.trusted] });
  assert.equal(report.records, original.records, 'the copy holds every record');
  assert.deepEqual(
    report.chains.map((c) => [c.chain_id, c.anchored, c.checkpoints]),
    original.chains.map((c) => [c.chain_id, c.anchored, c.checkpoints]),
    'the same checkpoints anchor the same records',
  );
  for (const f of readdirSync(journalDir)) {
    if (!f.startsWith('qt-') || !f.endsWith('.jsonl')) continue;
    assert.ok(readFileSync(join(copyDir, f)).equals(readFileSync(join(journalDir, f))), `${f} arrived byte for byte`);
  }
}

export type Behaviour = (call: number, batch: SinkBatch) => SinkWriteResult | Promise<SinkWriteResult>;

/** An in-memory sink: keeps what it accepted, logs every write, and behaves as the test scripts it. */
export class MemorySink implements Sink {
  readonly accepts: 'records' | 'files';
  readonly maxBatch?: number;
  readonly maxBatchBytes?: number;
  /** Every write call: its batch and when it started. */
  readonly calls: { at: number; batch: SinkBatch }[] = [];
  /** Records / files accepted, in acceptance order (with any duplicates a resend caused). */
  readonly records: SinkRecord[] = [];
  readonly files: { file: SinkFile; content: Buffer }[] = [];
  flushed = 0;
  closed = 0;
  behaviour: Behaviour = () => ({});

  constructor(
    readonly name: string,
    options: { accepts?: 'records' | 'files'; maxBatch?: number; maxBatchBytes?: number; behaviour?: Behaviour } = {},
  ) {
    this.accepts = options.accepts ?? 'records';
    if (options.maxBatch !== undefined) this.maxBatch = options.maxBatch;
    if (options.maxBatchBytes !== undefined) this.maxBatchBytes = options.maxBatchBytes;
    if (options.behaviour) this.behaviour = options.behaviour;
  }

  async write(batch: SinkBatch): Promise<SinkWriteResult> {
    this.calls.push({ at: Date.now(), batch });
    const result = await this.behaviour(this.calls.length, batch); // may throw: nothing accepted
    const failed = new Set(result.failed ?? []);
    if (batch.type === 'records') {
      batch.records.forEach((r, i) => {
        if (!failed.has(i)) this.records.push(r);
      });
    } else {
      batch.files.forEach((f, i) => {
        // Read now: the engine promises the bytes at `path` until the batch is accepted.
        if (!failed.has(i)) this.files.push({ file: f, content: readFileSync(f.path).subarray(0, f.bytes) });
      });
    }
    return result;
  }

  async flush(): Promise<void> {
    this.flushed++;
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

/** Waits until `check` holds (polling), or fails the test after `ms`. */
export async function eventually(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
