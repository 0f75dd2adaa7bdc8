import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Segment files are named qt-<chain_id>-<6-digit number>.jsonl; chain ids are UUIDv7, so names sort by time. */
const SEGMENT_RE = /^qt-([0-9a-f-]{36})-(\d{6,})\.jsonl$/;

export interface SegmentName {
  file: string;
  chainId: string;
  index: number;
}

export function segmentFileName(chainId: string, index: number): string {
  return `qt-${chainId}-${String(index).padStart(6, '0')}.jsonl`;
}

/** The signed checkpoints of one chain (docs/integrity.md). */
export function checkpointFileName(chainId: string): string {
  return `qt-${chainId}.checkpoints.jsonl`;
}

const CHECKPOINT_RE = /^qt-([0-9a-f-]{36})\.checkpoints\.jsonl$/;

export function parseCheckpointName(file: string): string | undefined {
  return CHECKPOINT_RE.exec(file)?.[1];
}

export function parseSegmentName(file: string): SegmentName | undefined {
  const m = SEGMENT_RE.exec(file);
  if (!m) return undefined;
  return { file, chainId: m[1]!, index: Number(m[2]) };
}

/** Segments in a directory in chain order (chain creation time, then segment number). */
export function listSegments(dir: string): SegmentName[] {
  const out: SegmentName[] = [];
  for (const f of readdirSync(dir)) {
    const s = parseSegmentName(f);
    if (s) out.push(s);
  }
  return out.sort((a, b) => (a.chainId === b.chainId ? a.index - b.index : a.chainId < b.chainId ? -1 : 1));
}

export interface TailLine {
  /** Bytes of the last complete line (without its newline). */
  line: Buffer;
  /** True when the file ends with bytes after the last newline: a torn write. */
  torn: boolean;
  /** The bytes after the last newline (empty unless torn). */
  tornBytes: Buffer;
  /** File length up to and including the last newline. */
  completeBytes: number;
}

/** Reads the last complete line of a file without loading all of it. */
export function readLastLine(path: string, maxTail = 8 * 1024 * 1024): TailLine | undefined {
  const size = statSync(path).size;
  if (size === 0) return undefined;
  const len = Math.min(size, maxTail);
  const buf = Buffer.allocUnsafe(len);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  const torn = buf[len - 1] !== 0x0a;
  const end = torn ? buf.lastIndexOf(0x0a) : len - 1;
  const tornBytes = buf.subarray(end + 1);
  const completeBytes = size - tornBytes.length;
  if (end < 0) return torn && len === size ? { line: Buffer.alloc(0), torn, tornBytes, completeBytes } : undefined;
  const start = end === 0 ? 0 : buf.lastIndexOf(0x0a, end - 1) + 1;
  if (start === 0 && len < size) return undefined;
  return { line: buf.subarray(start, end), torn, tornBytes, completeBytes };
}

export function segmentPath(dir: string, name: string): string {
  return join(dir, name);
}
