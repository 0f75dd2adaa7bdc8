import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One complete line of a journal file: its bytes as stored (no newline) and where it is. */
export interface StoredLine {
  file: string;
  /** 1-based line number in its file. */
  line: number;
  bytes: Buffer;
  /** Set instead of `bytes` (then empty) when the line was longer than MAX_LINE_BYTES: how long it was. */
  oversized?: number;
}

const CHUNK = 1 << 20;

/**
 * This reader's limit on one line. Statement text is cut at maxStatementLength (16,384 characters by
 * default), so events are a few KiB; an application may raise that limit, which is why this one is
 * far above it. A longer line is reported (never held whole in memory), as beyond this limit.
 */
export const MAX_LINE_BYTES = 256 << 20;

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

  constructor(
    readonly file: string,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Moves past every complete line there is now, without looking at them (counted, for line numbers). */
  skipToEnd(): void {
    this.readAvailable(() => undefined);
  }

  /**
   * Calls `onLine` for each complete line from `offset` to the end of the file as it is now; `false`
   * from it stops the read. Throws when the path is not a regular file (a pipe has no end to read to).
   */
  readAvailable(onLine: (line: StoredLine) => unknown): void {
    const fd = openSync(this.file, 'r');
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new Error(`${this.file}: not a regular file (save a stream to a file first)`);
      const size = stat.size;
      // The start of a line that continues past the chunks read so far, kept as a list: joined once.
      let carry: Buffer[] = [];
      let carried = 0;
      let position = this.offset;
      while (position < size) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - position));
        const read = readSync(fd, chunk, 0, chunk.length, position);
        if (read === 0) break;
        position += read;
        const buf = chunk.subarray(0, read);
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(0x0a, start);
          if (nl < 0) break;
          const length = carried + nl - start;
          this.lineNumber += 1;
          this.offset += length + 1;
          let line: StoredLine;
          if (length > this.maxLineBytes) line = { file: this.file, line: this.lineNumber, bytes: Buffer.alloc(0), oversized: length };
          else line = { file: this.file, line: this.lineNumber, bytes: carried > 0 ? Buffer.concat([...carry, buf.subarray(start, nl)]) : buf.subarray(start, nl) };
          carry = [];
          carried = 0;
          start = nl + 1;
          if (onLine(line) === false) {
            this.pending = 0;
            return;
          }
        }
        const rest = read - start;
        // An oversized line is only counted from here on, never kept.
        if (carried + rest <= this.maxLineBytes) carry.push(Buffer.from(buf.subarray(start)));
        else carry = [];
        carried += rest;
      }
      this.pending = carried;
    } finally {
      closeSync(fd);
    }
  }
}
