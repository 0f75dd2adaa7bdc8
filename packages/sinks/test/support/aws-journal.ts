import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuditor, loadAnalyzers, type Sink, type SinkRecord, type TrustedKey, trustedKey } from '@querytrail/core';
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const PG_CONFIG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

export interface SigningPair {
  privateKey: KeyObject;
  trusted: TrustedKey;
}

export function signingPair(): SigningPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, trusted: trustedKey(publicKey) };
}

export interface PgJournalOptions {
  dir: string;
  signingKey: KeyObject;
  sinks?: Sink[];
  /** Statements to run (each INSERT is one db.query). Default 60. */
  inserts?: number;
  segmentMaxBytes?: number;
  closeTimeoutMs?: number;
  onSinkError?: (e: Error) => void;
}

/**
 * Writes a real journal: createAuditor with a signing key, instrumentPg on a pg.Pool against the
 * local PostgreSQL, a table of its own, some inserts and reads. Sinks (if any) ship it as it grows;
 * close() drains them.
 */
export async function runPgWorkload(o: PgJournalOptions): Promise<{ table: string }> {
  await loadAnalyzers();
  const table = `qt_aws_${randomBytes(5).toString('hex')}`;
  const auditor = createAuditor({
    service: { name: 'aws-sinks-test' },
    journal: { dir: o.dir, signingKey: o.signingKey, checkpointEvery: 25, segmentMaxBytes: o.segmentMaxBytes ?? 16 * 1024 },
    catalog: { mode: false },
    ...(o.sinks ? { sinks: o.sinks } : {}),
    delivery: {
      closeTimeoutMs: o.closeTimeoutMs ?? 30_000,
      pollIntervalMs: 20,
      backoff: { initialMs: 10, maxMs: 200 },
      ...(o.onSinkError ? { onError: o.onSinkError } : {}),
    },
  });
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 4 }));
  try {
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
    const n = o.inserts ?? 60;
    for (let i = 0; i < n; i += 4) {
      await Promise.all([0, 1, 2, 3].filter((k) => i + k < n).map((k) => pool.query(`INSERT INTO ${table} (id, note) VALUES ($1, $2)`, [i + k, `row ${i + k}`])));
      if (i % 20 === 0) await pool.query(`SELECT count(*) FROM ${table}`);
    }
    await pool.query(`DROP TABLE ${table}`);
  } finally {
    await pool.end();
    // pg emits the clients' 'end' (db.disconnect) just after pool.end() resolves. An event appended
    // while Journal.close() is between its flush and its final checkpoint lands after that checkpoint
    // (an unanchored tail): a core race reported separately; let them reach the journal first.
    await new Promise((r) => setTimeout(r, 50));
    await auditor.close();
  }
  return { table };
}

/** A journal line as the test sees it: which file it is in, and its dedup key. */
export interface JournalLine {
  kind: 'event' | 'checkpoint';
  line: string;
  chainId: string;
  file: string;
  dedupId: string;
}

/** The dedup key of a delivered line: event_id for events, checkpoint:<chain>:<index> for checkpoints. */
export function dedupKey(line: string): string {
  const v = JSON.parse(line) as { schema?: string; event_id?: string; chain_id?: string; index?: number; dedup_id?: string };
  if (v.schema === 'querytrail.checkpoint/1') return `checkpoint:${v.chain_id}:${v.index}`;
  if (v.schema === 'querytrail.sink.oversize/1') return `oversize:${v.dedup_id}`;
  if (typeof v.event_id !== 'string') throw new Error(`line without event_id: ${line.slice(0, 200)}`);
  return v.event_id;
}

/** Every complete line of every segment and checkpoint file in a journal directory. */
export function journalLines(dir: string): JournalLine[] {
  const out: JournalLine[] = [];
  for (const file of readdirSync(dir).sort()) {
    const seg = /^qt-([0-9a-f-]{36})-\d{6,}\.jsonl$/.exec(file);
    const cps = /^qt-([0-9a-f-]{36})\.checkpoints\.jsonl$/.exec(file);
    if (!seg && !cps) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    for (const line of complete.split('\n')) {
      if (line === '') continue;
      out.push({ kind: seg ? 'event' : 'checkpoint', line, chainId: (seg ?? cps)![1]!, file, dedupId: dedupKey(line) });
    }
  }
  return out;
}

export function asSinkRecords(lines: readonly JournalLine[]): SinkRecord[] {
  return lines.map((l) => ({ kind: l.kind, line: l.line, chainId: l.chainId, dedupId: l.dedupId, file: l.file }));
}

/** Keeps the first copy of each line by dedup key; fails if two copies of one key differ. */
export function dedup(lines: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) {
    const k = dedupKey(l);
    const seen = out.get(k);
    if (seen !== undefined && seen !== l) throw new Error(`two different lines share the dedup key ${k}`);
    out.set(k, l);
  }
  return out;
}

/**
 * Rebuilds a journal directory from delivered lines (deduplicated): per chain, the events in seq
 * order as one segment and the checkpoints in index order, so `verifyJournal` can check them. Order
 * and segment boundaries are not part of what is verified; bytes, seq, hashes and signatures are.
 */
export function rebuildJournal(lines: Iterable<string>, dir: string): void {
  const events = new Map<string, { seq: number; line: string }[]>();
  const checkpoints = new Map<string, { index: number; line: string }[]>();
  for (const line of lines) {
    const v = JSON.parse(line) as { schema?: string; chain_id?: string; index?: number; integrity?: { chain_id: string; seq: number } };
    if (v.schema === 'querytrail.checkpoint/1') {
      const list = checkpoints.get(v.chain_id!) ?? [];
      list.push({ index: v.index!, line });
      checkpoints.set(v.chain_id!, list);
    } else if (v.integrity) {
      const list = events.get(v.integrity.chain_id) ?? [];
      list.push({ seq: v.integrity.seq, line });
      events.set(v.integrity.chain_id, list);
    }
  }
  for (const [chain, list] of events) {
    list.sort((a, b) => a.seq - b.seq);
    writeFileSync(join(dir, `qt-${chain}-000001.jsonl`), list.map((e) => `${e.line}\n`).join(''));
  }
  for (const [chain, list] of checkpoints) {
    list.sort((a, b) => a.index - b.index);
    writeFileSync(join(dir, `qt-${chain}.checkpoints.jsonl`), list.map((e) => `${e.line}\n`).join(''));
  }
}
