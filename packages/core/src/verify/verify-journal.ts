import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { hashLine, ZERO_HASH } from '../journal/hash.js';
import { listSegments, parseSegmentName, type SegmentName } from '../journal/segment-files.js';
import type { Finding } from './findings.js';
import { readLines } from './read-lines.js';

export interface SegmentReport {
  file: string;
  chain_id: string;
  records: number;
  first_seq?: number;
  last_seq?: number;
  status: 'valid' | 'INVALID' | 'WARN';
}

export interface ChainReport {
  chain_id: string;
  segments: number;
  records: number;
  last_seq: number;
  last_hash: string;
  genesis_reason?: string;
  status: 'valid' | 'INVALID' | 'WARN';
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  invalid: number;
  warnings: number;
  chains: ChainReport[];
  segments: SegmentReport[];
  findings: Finding[];
}

interface ParsedRecord {
  type?: string;
  integrity?: { chain_id?: unknown; seq?: unknown; prev_hash?: unknown };
  genesis?: { reason?: string; previous?: { chain_id?: string; seq?: number; hash?: string } };
}

function statusOf(findings: Finding[]): 'valid' | 'INVALID' | 'WARN' {
  if (findings.some((f) => f.verdict === 'INVALID')) return 'INVALID';
  return findings.length > 0 ? 'WARN' : 'valid';
}

/** Resolves the arguments to segment files: directories are scanned, files taken as given. */
function collectSegments(paths: string[], scannedDirs: Set<string>): { dir: string; seg: SegmentName }[] {
  const out: { dir: string; seg: SegmentName }[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      scannedDirs.add(p);
      for (const seg of listSegments(p)) out.push({ dir: p, seg });
    } else {
      const seg = parseSegmentName(basename(p));
      if (!seg) throw new Error(`${p}: not a querytrail segment file (expected qt-<chain_id>-<number>.jsonl)`);
      out.push({ dir: dirname(p), seg });
    }
  }
  return out.sort((a, b) =>
    a.seg.chainId === b.seg.chainId ? a.seg.index - b.seg.index : a.seg.chainId < b.seg.chainId ? -1 : 1,
  );
}

/**
 * Recomputes every chain from the stored bytes alone (docs/integrity.md): seq +1 exactly, each
 * prev_hash equal to SHA-256 of the previous line, genesis links between chains.
 */
export function verifyJournal(paths: string | string[]): VerifyReport {
  const scannedDirs = new Set<string>();
  const list = collectSegments(Array.isArray(paths) ? paths : [paths], scannedDirs);
  const findings: Finding[] = [];
  const segments: SegmentReport[] = [];
  const chains: ChainReport[] = [];
  const byChain = new Map<string, { dir: string; seg: SegmentName }[]>();
  for (const s of list) {
    const arr = byChain.get(s.seg.chainId) ?? [];
    arr.push(s);
    byChain.set(s.seg.chainId, arr);
  }

  const chainEnds = new Map<string, { seq: number; hash: string }>();
  let total = 0;

  for (const [chainId, segs] of byChain) {
    const chainFindings: Finding[] = [];
    const add = (f: Finding) => {
      chainFindings.push(f);
      findings.push(f);
    };
    let expectSeq = 1;
    let prevHash = ZERO_HASH;
    let records = 0;
    let genesisReason: string | undefined;
    let expectIndex = 1;
    for (let si = 0; si < segs.length; si++) {
      const { dir, seg } = segs[si]!;
      const segFindingsStart = findings.length;
      for (; expectIndex < seg.index; expectIndex++) {
        add({ verdict: 'INVALID', code: 'not_found', chain_id: chainId, segment: `qt-${chainId}-${String(expectIndex).padStart(6, '0')}.jsonl`, message: `segment ${expectIndex} of chain ${chainId} is missing` });
      }
      expectIndex = seg.index + 1;
      const { lines, torn } = readLines(join(dir, seg.file));
      let firstSeq: number | undefined;
      let lastSeq: number | undefined;
      for (const line of lines) {
        const where = { chain_id: chainId, segment: seg.file, line: line.number };
        const hash = hashLine(line.bytes);
        let rec: ParsedRecord;
        try {
          rec = JSON.parse(line.bytes.toString('utf8')) as ParsedRecord;
        } catch {
          add({ verdict: 'INVALID', code: 'unparseable', ...where, message: 'line is not valid JSON (modified or corrupted)' });
          prevHash = hash;
          expectSeq += 1;
          continue;
        }
        const integ = rec.integrity;
        if (!integ || typeof integ.seq !== 'number' || typeof integ.prev_hash !== 'string' || typeof integ.chain_id !== 'string') {
          add({ verdict: 'INVALID', code: 'unparseable', ...where, message: 'record has no integrity {chain_id, seq, prev_hash}' });
          prevHash = hash;
          expectSeq += 1;
          continue;
        }
        const seq = integ.seq;
        records += 1;
        firstSeq ??= seq;
        lastSeq = seq;
        if (integ.chain_id !== chainId) {
          add({ verdict: 'INVALID', code: 'wrong_chain', ...where, seq, message: `record names chain ${integ.chain_id} inside a segment of chain ${chainId}` });
        }
        if (seq === 1) {
          if (rec.type !== 'chain.genesis') {
            add({ verdict: 'INVALID', code: 'missing_genesis', ...where, seq, message: 'seq 1 is not a chain.genesis record' });
          } else {
            genesisReason = rec.genesis?.reason;
          }
        }
        if (seq === expectSeq) {
          if (integ.prev_hash !== prevHash) {
            add({
              verdict: 'INVALID',
              code: 'hash_mismatch',
              ...where,
              seq,
              message:
                seq === 1
                  ? 'first record of the chain does not start from the zero hash'
                  : `prev_hash does not match the record before it (seq ${seq - 1} was modified, or this one was)`,
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
      if (torn) {
        const isLast = si === segs.length - 1;
        add({
          verdict: isLast ? 'WARN' : 'INVALID',
          code: 'torn_line',
          chain_id: chainId,
          segment: seg.file,
          line: torn.number,
          message: isLast
            ? `${torn.bytes.length} bytes after the last newline: an interrupted write (crash) or a truncated record`
            : 'a segment that is not the chain’s last ends mid-record',
        });
      }
      total += lines.length;
      const segFindings = findings.slice(segFindingsStart);
      segments.push({
        file: join(dir, seg.file),
        chain_id: chainId,
        records: lines.length,
        ...(firstSeq === undefined ? {} : { first_seq: firstSeq }),
        ...(lastSeq === undefined ? {} : { last_seq: lastSeq }),
        status: statusOf(segFindings),
      });
    }
    if (records === 0) {
      add({ verdict: 'INVALID', code: 'missing_genesis', chain_id: chainId, message: 'chain has no records' });
    }
    chainEnds.set(chainId, { seq: expectSeq - 1, hash: prevHash });
    chains.push({
      chain_id: chainId,
      segments: segs.length,
      records,
      last_seq: expectSeq - 1,
      last_hash: prevHash,
      ...(genesisReason === undefined ? {} : { genesis_reason: genesisReason }),
      status: statusOf(chainFindings),
    });
  }

  // Links between chains: a genesis names the last record of the chain it follows.
  const ordered = [...byChain.keys()];
  for (let i = 0; i < ordered.length; i++) {
    const chainId = ordered[i]!;
    const segs = byChain.get(chainId)!;
    const first = readLines(join(segs[0]!.dir, segs[0]!.seg.file)).lines[0];
    if (!first) continue;
    let rec: ParsedRecord;
    try {
      rec = JSON.parse(first.bytes.toString('utf8')) as ParsedRecord;
    } catch {
      continue;
    }
    const prev = rec.genesis?.previous;
    const chainReport = chains.find((c) => c.chain_id === chainId)!;
    const push = (f: Finding) => {
      findings.push(f);
      if (f.verdict === 'INVALID' || chainReport.status === 'valid') chainReport.status = f.verdict;
    };
    if (prev?.chain_id) {
      const end = chainEnds.get(prev.chain_id);
      if (!end) {
        // A whole directory was given, so the chain it follows should be in it: its absence is lost evidence.
        push(
          scannedDirs.has(segs[0]!.dir)
            ? { verdict: 'INVALID', code: 'not_found', chain_id: chainId, message: `the chain this one follows (${prev.chain_id}) is missing from the directory` }
            : { verdict: 'WARN', code: 'broken_link', chain_id: chainId, message: `previous chain ${prev.chain_id} is not among the files verified` },
        );
      } else if (end.seq !== prev.seq || end.hash !== prev.hash) {
        push({
          verdict: 'INVALID',
          code: 'broken_link',
          chain_id: chainId,
          message: `genesis links to seq ${prev.seq} of chain ${prev.chain_id}, but that chain ends at seq ${end.seq} with another hash`,
        });
      }
    } else if (i > 0) {
      push({ verdict: 'WARN', code: 'unlinked_restart', chain_id: chainId, message: `chain starts without linking to the chain before it (${ordered[i - 1]})` });
    }
  }

  for (const c of chains) {
    // Until signed checkpoints exist, the end of every chain can be cut or rewritten undetected.
    findings.push({
      verdict: 'WARN',
      code: 'unanchored_tail',
      chain_id: c.chain_id,
      message: `no signed checkpoint covers records 1..${c.last_seq}: the end of the chain could be removed or rewritten without detection`,
    });
    if (c.status === 'valid') c.status = 'WARN';
  }

  const invalid = findings.filter((f) => f.verdict === 'INVALID').length;
  return {
    ok: invalid === 0,
    records: total,
    invalid,
    warnings: findings.length - invalid,
    chains,
    segments,
    findings,
  };
}
