import { readFileSync } from 'node:fs';

export interface RawLine {
  /** 1-based line number in its file. */
  number: number;
  bytes: Buffer;
}

/** Splits a file into its exact line bytes (no decoding: hashes are over the stored bytes). */
export function readLines(path: string): { lines: RawLine[]; torn: RawLine | undefined } {
  const buf = readFileSync(path);
  const lines: RawLine[] = [];
  let start = 0;
  let n = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    n += 1;
    lines.push({ number: n, bytes: buf.subarray(start, nl) });
    start = nl + 1;
  }
  const torn = start < buf.length ? { number: n + 1, bytes: buf.subarray(start) } : undefined;
  return { lines, torn };
}
