import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One complete line of a journal file: its bytes as stored (no newline) and where it is. */
export interface StoredLine {
  file: string;
  /** 1-based line number in its file. */
  line: number;
  bytes: Buffer;
}

const CHUNK = 1 << 20;

/**
 * Reads a journal file's complete lines from a byte offset, in 1 MiB chunks, so a multi-gigabyte
 * journal is never held in memory. Bytes after the last newline (a write still under way, or one a
 * crash cut short) are not a line: they are left for the next read and reported as `pending`.
 */
export class LineReader {
  /** Offset of the first byte not yet returned as part of a complete line. */
  offset = 0;
  /** Lines returned so far (the number of the last one). */
  lineNumber = 0;
  /** Bytes after the last newline at the last read. */
  pending = 0;

  constructor(readonly file: string) {}

  /** Moves past every complete line there is now, without looking at them (counted, for line numbers). */
  skipToEnd(): void {
    this.readAvailable(() => undefined);
  }

  /** Calls `onLine` for each complete line from `offset` to the end of the file as it is now; `false` from it stops the read. */
  readAvailable(onLine: (line: StoredLine) => unknown): void {
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      let carry: Buffer = Buffer.alloc(0);
      let position = this.offset;
      while (position < size) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - position));
        const read = readSync(fd, chunk, 0, chunk.length, position);
        if (read === 0) break;
        position += read;
        const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(0x0a, start);
          if (nl < 0) break;
          this.lineNumber += 1;
          this.offset += nl - start + 1;
          const stop = onLine({ file: this.file, line: this.lineNumber, bytes: buf.subarray(start, nl) });
          start = nl + 1;
          if (stop === false) {
            this.pending = 0;
            return;
          }
        }
        carry = Buffer.from(buf.subarray(start));
      }
      this.pending = carry.length;
    } finally {
      closeSync(fd);
    }
  }
}
