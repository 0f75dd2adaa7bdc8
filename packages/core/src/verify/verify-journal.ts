import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Checkpoint, checkpointLineHash, verifyCheckpointSignature } from '../journal/checkpoint.js';
import { ZERO_HASH } from '../journal/hash.js';
import { MerkleAccumulator } from '../journal/merkle.js';
import { checkpointFileName, listSegments, parseCheckpointName, parseSegmentName, type SegmentName } from '../journal/segment-files.js';
import type { Finding } from './findings.js';
import type { TrustedKey } from './public-keys.js';
import { readLines } from './read-lines.js';

export interface SegmentReport {
  file: string;
  chain_id: string;
  records: number;
  first_seq?: number;
  last_seq?: number;
  status: Status;
}

export interface ChainReport {
  chain_id: string;
  segments: number;
  records: number;
  last_seq: number;
  last_hash: string;
  checkpoints: number;
  /** Records 1..anchored are covered by a verified (or, without keys, structurally sound) checkpoint. */
  anchored: number;
  genesis_reason?: string;
  status: Status;
}

export type Status = 'valid' | 'INVALID' | 'WARN';

export interface VerifyReport {
  ok: boolean;
  records: number;
  invalid: number;
  warnings: number;
  chains: ChainReport[];
  segments: SegmentReport[];
  findings: Finding[];
}

export interface VerifyOptions {
  /** Keys whose checkpoints are trusted. Without any, signatures are not checked (WARN). */
  publicKeys?: TrustedKey[];
  /** Called after each segment, for progress display. */
  onProgress?: (done: number, total: number) => void;
}

interface ParsedRecord {
  type?: string;
  integrity?: { chain_id?: unknown; seq?: unknown; prev_hash?: unknown };
  genesis?: { reason?: string; previous?: { chain_id?: string; seq?: number; hash?: string }; checkpoints?: { key_id?: string } };
}

interface ChainInput {
  chainId: string;
  dir: string;
  segments: SegmentName[];
  fromDirectory: boolean;
}

function worst(a: Status, b: Status): Status {
  if (a === 'INVALID' || b === 'INVALID') return 'INVALID';
  return a === 'WARN' || b === 'WARN' ? 'WARN' : 'valid';
}

function parse(bytes: Uint8Array): ParsedRecord | undefined {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as ParsedRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves the arguments to chains: directories are scanned, files taken as given. */
function collectChains(paths: string[]): ChainInput[] {
  const chains = new Map<string, ChainInput>();
  for (const p of paths) {
    const isDir = statSync(p).isDirectory();
    const found = isDir ? listSegments(p) : [parseSegmentName(basename(p))];
    for (const seg of found) {
      if (!seg) throw new Error(`${p}: not a querytrail segment file (expected qt-<chain_id>-<number>.jsonl)`);
      const dir = isDir ? p : dirname(p);
      const c = chains.get(seg.chainId) ?? { chainId: seg.chainId, dir, segments: [], fromDirectory: isDir };
      c.segments.push(seg);
      chains.set(seg.chainId, c);
    }
  }
  for (const c of chains.values()) c.segments.sort((a, b) => a.index - b.index);
  return [...chains.values()].sort((a, b) => (a.chainId < b.chainId ? -1 : 1));
}

/**
 * Recomputes every chain from the stored bytes alone (docs/integrity.md): seq +1 exactly, each
 * prev_hash equal to SHA-256 of the previous line, signed checkpoints over a Merkle tree of the
 * records, and the genesis links between chains.
 */
export function verifyJournal(paths: string | string[], options: VerifyOptions = {}): VerifyReport {
  const inputs = collectChains(Array.isArray(paths) ? paths : [paths]);
  const findings: Finding[] = [];
  const segments: SegmentReport[] = [];
  const chains: ChainReport[] = [];
  const firstRecords = new Map<string, ParsedRecord | undefined>();
  const totalSegments = inputs.reduce((n, c) => n + c.segments.length, 0);
  let doneSegments = 0;
  let total = 0;

  for (const input of inputs) {
    const { chainId } = input;
    let chainStatus: Status = 'valid';
    const add = (f: Finding): void => {
      findings.push(f);
      chainStatus = worst(chainStatus, f.verdict);
    };
    const checkpoints = readCheckpoints(input, add, options.publicKeys);
    const byCount = new Map<number, Checkpoint>();
    for (const cp of checkpoints) byCount.set(cp.count, cp);
    const merkle = new MerkleAccumulator();
    let anchored = 0;

    let expectSeq = 1;
    let prevHash = ZERO_HASH;
    let records = 0;
    let genesis: ParsedRecord['genesis'];
    let expectIndex = 1;
    for (let si = 0; si < input.segments.length; si++) {
      const seg = input.segments[si]!;
      const segStart = findings.length;
      for (; expectIndex < seg.index; expectIndex++) {
        add({ verdict: 'INVALID', code: 'not_found', chain_id: chainId, segment: `qt-${chainId}-${String(expectIndex).padStart(6, '0')}.jsonl`, message: `segment ${expectIndex} of chain ${chainId} is missing` });
      }
      expectIndex = seg.index + 1;
      const { lines, torn } = readLines(join(input.dir, seg.file));
      let firstSeq: number | undefined;
      let lastSeq: number | undefined;
      for (const line of lines) {
        const where = { chain_id: chainId, segment: seg.file, line: line.number };
        const digest = createHash('sha256').update(line.bytes).digest();
        const hash = digest.toString('hex');
        merkle.append(digest);
        const rec = parse(line.bytes);
        const integ = rec?.integrity;
        if (!rec || !integ || typeof integ.seq !== 'number' || typeof integ.prev_hash !== 'string' || typeof integ.chain_id !== 'string') {
          add({ verdict: 'INVALID', code: 'unparseable', ...where, message: rec ? 'record has no integrity {chain_id, seq, prev_hash}' : 'line is not valid JSON (modified or corrupted)' });
          prevHash = hash;
          expectSeq += 1;
        } else {
          const seq = integ.seq;
          records += 1;
          firstSeq ??= seq;
          lastSeq = seq;
          if (records === 1) firstRecords.set(chainId, rec);
          if (integ.chain_id !== chainId) {
            add({ verdict: 'INVALID', code: 'wrong_chain', ...where, seq, message: `record names chain ${integ.chain_id} inside a segment of chain ${chainId}` });
          }
          if (seq === 1) {
            if (rec.type === 'chain.genesis') genesis = rec.genesis;
            else add({ verdict: 'INVALID', code: 'missing_genesis', ...where, seq, message: 'seq 1 is not a chain.genesis record' });
          }
          if (seq === expectSeq) {
            if (integ.prev_hash !== prevHash) {
              add({
                verdict: 'INVALID',
                code: 'hash_mismatch',
                ...where,
                seq,
                message: seq === 1 ? 'first record of the chain does not start from the zero hash' : `prev_hash does not match the record before it (seq ${seq - 1} was modified, or this one was)`,
              });
            }
          } else if (seq > expectSeq) {
            add({ verdict: 'INVALID', code: 'gap', ...where, seq, message: `records ${expectSeq}..${seq - 1} are missing (${seq - expectSeq})` });
          } else if (seq === expectSeq - 1) {
            add({ verdict: 'INVALID', code: 'duplicate', ...where, seq, message: `seq ${seq} appears twice` });
          } else {
            add({ verdict: 'INVALID', code: 'reorder', ...where, seq, message: `seq ${seq} comes after seq ${expectSeq - 1}` });
          }
          expectSeq = Math.max(expectSeq, seq + 1);
          prevHash = hash;
        }
        const cp = byCount.get(merkle.size);
        if (cp) {
          if (cp.last_hash !== hash || cp.merkle_root !== merkle.root().toString('hex')) {
            add({
              verdict: 'INVALID',
              code: 'checkpoint_mismatch',
              ...where,
              message: `records 1..${cp.count} do not match signed checkpoint #${cp.index} (${cp.last_hash !== hash ? 'last hash' : 'Merkle root'} differs): a record was changed, added or removed`,
            });
          } else {
            anchored = cp.count;
          }
        }
      }
      if (torn) {
        const isLast = si === input.segments.length - 1;
        add({
          verdict: isLast ? 'WARN' : 'INVALID',
          code: 'torn_line',
          chain_id: chainId,
          segment: seg.file,
          line: torn.number,
          message: isLast ? `${torn.bytes.length} bytes after the last newline: an interrupted write (crash) or a truncated record` : 'a segment that is not the chain’s last ends mid-record',
        });
      }
      total += lines.length;
      const segFindings = findings.slice(segStart);
      segments.push({
        file: join(input.dir, seg.file),
        chain_id: chainId,
        records: lines.length,
        ...(firstSeq === undefined ? {} : { first_seq: firstSeq }),
        ...(lastSeq === undefined ? {} : { last_seq: lastSeq }),
        status: segFindings.reduce<Status>((s, f) => worst(s, f.verdict), 'valid'),
      });
      doneSegments += 1;
      options.onProgress?.(doneSegments, totalSegments);
    }

    const lastSeq = expectSeq - 1;
    if (records === 0) add({ verdict: 'INVALID', code: 'missing_genesis', chain_id: chainId, message: 'chain has no records' });
    for (const cp of checkpoints) {
      if (cp.count > merkle.size) {
        add({ verdict: 'INVALID', code: 'gap', chain_id: chainId, message: `signed checkpoint #${cp.index} covers ${cp.count} records, but only ${merkle.size} are present: the end of the chain was removed` });
      }
    }
    const expectsCheckpoints = Boolean(genesis?.checkpoints?.key_id);
    if (expectsCheckpoints && checkpoints.length === 0) {
      add({ verdict: 'INVALID', code: 'not_found', chain_id: chainId, segment: checkpointFileName(chainId), message: `the chain is signed (key ${genesis?.checkpoints?.key_id}) but its checkpoint file holds no checkpoint` });
    }
    if (anchored < merkle.size) {
      add({
        verdict: 'WARN',
        code: 'unanchored_tail',
        chain_id: chainId,
        message:
          anchored === 0
            ? `no signed checkpoint covers records 1..${merkle.size}: the end of the chain could be removed or rewritten without detection`
            : `records ${anchored + 1}..${merkle.size} come after the last signed checkpoint (a crash, or a cut-off tail)`,
      });
    }
    chains.push({
      chain_id: chainId,
      segments: input.segments.length,
      records,
      last_seq: lastSeq,
      last_hash: prevHash,
      checkpoints: checkpoints.length,
      anchored,
      ...(genesis?.reason === undefined ? {} : { genesis_reason: genesis.reason }),
      status: chainStatus,
    });
  }

  verifyLinks(inputs, chains, firstRecords, findings);
  findOrphanCheckpoints(Array.isArray(paths) ? paths : [paths], inputs, findings);

  const invalid = findings.filter((f) => f.verdict === 'INVALID').length;
  return { ok: invalid === 0, records: total, invalid, warnings: findings.length - invalid, chains, segments, findings };
}

/** Parses qt-<chain>.checkpoints.jsonl and checks each checkpoint against its predecessor and its key. */
function readCheckpoints(input: ChainInput, add: (f: Finding) => void, keys: TrustedKey[] | undefined): Checkpoint[] {
  const file = checkpointFileName(input.chainId);
  const path = join(input.dir, file);
  if (!existsSync(path)) return [];
  const out: Checkpoint[] = [];
  const raw = readFileSync(path);
  const lines = raw.toString('utf8').split('\n');
  const tornTail = lines.pop();
  if (tornTail) add({ verdict: 'WARN', code: 'torn_line', chain_id: input.chainId, segment: file, message: 'the checkpoint file ends mid-line (interrupted write)' });
  let prev = ZERO_HASH;
  let prevCount = 0;
  let warnedUnchecked = false;
  lines.forEach((line, i) => {
    const where = { chain_id: input.chainId, segment: file, line: i + 1 };
    let cp: Checkpoint;
    try {
      cp = JSON.parse(line) as Checkpoint;
    } catch {
      add({ verdict: 'INVALID', code: 'unparseable', ...where, message: 'checkpoint line is not valid JSON' });
      return;
    }
    if (cp.chain_id !== input.chainId || cp.index !== i + 1 || cp.prev_checkpoint !== prev || !(cp.count > prevCount)) {
      add({
        verdict: 'INVALID',
        code: 'inconsistent_checkpoint',
        ...where,
        message: `checkpoint #${cp.index} does not follow its predecessor (expected index ${i + 1}, prev_checkpoint ${prev.slice(0, 12)}…, count above ${prevCount})`,
      });
    }
    prev = checkpointLineHash(line);
    prevCount = Math.max(prevCount, cp.count);
    if (!keys || keys.length === 0) {
      if (!warnedUnchecked) add({ verdict: 'WARN', code: 'signatures_not_checked', ...where, message: 'no public key given (--public-key): checkpoint signatures were not checked' });
      warnedUnchecked = true;
    } else {
      const key = keys.find((k) => k.keyId === cp.key_id);
      if (!key) {
        add({ verdict: 'INVALID', code: 'unknown_key', ...where, message: `checkpoint #${cp.index} is signed by key ${cp.key_id}, which is not among the trusted keys` });
        return;
      }
      if (!verifyCheckpointSignature(cp, key.key)) {
        add({ verdict: 'INVALID', code: 'signature_failed', ...where, message: `checkpoint #${cp.index}: the Ed25519 signature does not verify` });
        return;
      }
      if ((key.notBefore && cp.time < key.notBefore) || (key.notAfter && cp.time > key.notAfter)) {
        add({ verdict: 'INVALID', code: 'key_not_valid', ...where, message: `checkpoint #${cp.index} (${cp.time}) is outside the validity of key ${cp.key_id}` });
        return;
      }
    }
    out.push(cp);
  });
  return out;
}

/** A checkpoint file whose chain has no segment left: the whole chain was deleted. */
function findOrphanCheckpoints(paths: string[], inputs: ChainInput[], findings: Finding[]): void {
  const known = new Set(inputs.map((c) => c.chainId));
  for (const p of paths) {
    if (!statSync(p).isDirectory()) continue;
    for (const f of readdirSync(p)) {
      const chainId = parseCheckpointName(f);
      if (chainId && !known.has(chainId)) {
        findings.push({ verdict: 'INVALID', code: 'not_found', chain_id: chainId, segment: f, message: `chain ${chainId} has signed checkpoints but none of its segments: the chain was deleted` });
      }
    }
  }
}

/** Links between chains: a genesis names the last record of the chain it follows. */
function verifyLinks(inputs: ChainInput[], chains: ChainReport[], firstRecords: Map<string, ParsedRecord | undefined>, findings: Finding[]): void {
  const ends = new Map(chains.map((c) => [c.chain_id, c]));
  inputs.forEach((input, i) => {
    const report = ends.get(input.chainId)!;
    const push = (f: Finding): void => {
      findings.push(f);
      report.status = worst(report.status, f.verdict);
    };
    const prev = firstRecords.get(input.chainId)?.genesis?.previous;
    if (prev?.chain_id) {
      const end = ends.get(prev.chain_id);
      if (!end) {
        // A whole directory was given, so the chain it follows should be in it: its absence is lost evidence.
        push(
          input.fromDirectory
            ? { verdict: 'INVALID', code: 'not_found', chain_id: input.chainId, message: `the chain this one follows (${prev.chain_id}) is missing from the directory` }
            : { verdict: 'WARN', code: 'broken_link', chain_id: input.chainId, message: `previous chain ${prev.chain_id} is not among the files verified` },
        );
      } else if (end.last_seq !== prev.seq || end.last_hash !== prev.hash) {
        push({
          verdict: 'INVALID',
          code: 'broken_link',
          chain_id: input.chainId,
          message: `genesis links to seq ${prev.seq} of chain ${prev.chain_id}, but that chain ends at seq ${end.last_seq} with another hash`,
        });
      }
    } else if (i > 0) {
      push({ verdict: 'WARN', code: 'unlinked_restart', chain_id: input.chainId, message: `chain starts without linking to the chain before it (${inputs[i - 1]!.chainId})` });
    }
  });
}
