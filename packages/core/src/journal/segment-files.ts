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
  if (end < 0) return undefined;
  const start = buf.lastIndexOf(0x0a, end - 1) + 1;
  if (start === 0 && len < size) return undefined;
  return { line: buf.subarray(start, end), torn };
}

export function segmentPath(dir: string, name: string): string {
  return join(dir, name);
}
