import { type FileHandle, open } from 'node:fs/promises';

export interface LineChunk {
  /** Complete lines (without their newline), exact bytes. */
  readonly lines: Buffer[];
  /** Byte offset just after the last returned line. */
  readonly end: number;
  /** Bytes after `end` that are not (yet) a complete line, when the limits did not stop the read. */
  readonly partial: number;
  /** True when a limit stopped the read: more complete lines may follow. */
  readonly limited: boolean;
}

const CHUNK = 64 * 1024;

/**
 * Reads complete lines of `path` from `offset`, at most `maxLines` and `maxBytes` (counting a newline
 * per line). With `oversizeFirst`, a first line longer than maxBytes is still returned, alone. Reads only what it returns, so memory stays bounded however
 * far behind the reader is. A missing file reads as empty.
 */
export async function readCompleteLines(path: string, offset: number, maxLines: number, maxBytes: number, oversizeFirst = true): Promise<LineChunk> {
  let fd: FileHandle;
  try {
    fd = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], end: offset, partial: 0, limited: false };
    throw err;
  }
  try {
    const size = (await fd.stat()).size;
    const lines: Buffer[] = [];
    let pos = offset;
    let bytes = 0;
    while (pos < size && lines.length < maxLines) {
      // Read what the budget allows; grow for a single line longer than that.
      let want = Math.min(size - pos, Math.max(CHUNK, maxBytes - bytes));
      let buf = Buffer.allocUnsafe(want);
      let got = (await fd.read(buf, 0, want, pos)).bytesRead;
      buf = buf.subarray(0, got);
      let nl = buf.indexOf(0x0a);
      // A line longer than what is left of the budget: the next call starts with it, alone.
      if (nl < 0 && pos + got < size && (lines.length > 0 || !oversizeFirst)) return { lines, end: pos, partial: 0, limited: true };
      while (nl < 0 && pos + got < size) {
        want = Math.min(size - pos, got * 2);
        const bigger = Buffer.allocUnsafe(want);
        got = (await fd.read(bigger, 0, want, pos)).bytesRead;
        buf = bigger.subarray(0, got);
        nl = buf.indexOf(0x0a);
      }
      if (nl < 0) break;
      let start = 0;
      while (nl >= 0) {
        const len = nl - start + 1;
        if ((lines.length > 0 || !oversizeFirst) && (bytes + len > maxBytes || lines.length >= maxLines)) {
          return { lines, end: pos + start, partial: 0, limited: true };
        }
        // Copy: the returned lines must not pin a large read buffer.
        lines.push(Buffer.from(buf.subarray(start, nl)));
        bytes += len;
        start = nl + 1;
        nl = buf.indexOf(0x0a, start);
      }
      pos += start;
      if (bytes >= maxBytes || lines.length >= maxLines) return { lines, end: pos, partial: 0, limited: pos < size };
    }
    return { lines, end: pos, partial: size - pos, limited: false };
  } finally {
    await fd.close();
  }
}

/** Size of a file's complete lines (up to and including the last newline); 0 if missing. */
export async function completeSize(path: string): Promise<number> {
  let fd: FileHandle;
  try {
    fd = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    let end = (await fd.stat()).size;
    const buf = Buffer.allocUnsafe(4096);
    while (end > 0) {
      const len = Math.min(buf.length, end);
      await fd.read(buf, 0, len, end - len);
      const nl = buf.subarray(0, len).lastIndexOf(0x0a);
      if (nl >= 0) return end - len + nl + 1;
      end -= len;
    }
    return 0;
  } finally {
    await fd.close();
  }
}
