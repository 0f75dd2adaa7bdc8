import { sha256Hex } from './hash.js';
import type { LineOut } from './record.js';
import { latin1At, utf8At } from './encode-at.js';

/** Size of one writer buffer. */
export const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Buffers kept for reuse between batches: the writer's memory is bounded by this many MiB (plus oversized lines). */
export const WRITE_BUFFERS_MAX = 8;
/** Room a line is expected to need when it starts (a typical statement line is 1–2 KB). */
const LINE_ROOM = 4096;

/**
 * The lines of one batch, encoded into a pool of reused 1 MiB buffers. A line is written once, piece
 * by piece (LineOut), hashed from its bytes in place and written to the file from there; `take()`
 * hands the filled parts to one writev. The pool (owned by the journal) keeps at most
 * WRITE_BUFFERS_MAX buffers; a line that outgrows what is left gets a buffer of its own, not kept.
 *
 * Per line: startLine(), then writes, then endLine() (or abortLine() to discard it).
 */
export class BatchBuffers implements LineOut {
  private index = 0;
  private current: Buffer | undefined;
  private used = 0;
  private lineStart = 0;
  private filled: Buffer[] = [];
  /** Bytes of complete lines not yet taken. */
  pendingBytes = 0;

  /** `maxBuffers`: how many of the pool's buffers this batch may fill before startLine() says so. */
  constructor(
    private readonly pool: Buffer[],
    private readonly maxBuffers = WRITE_BUFFERS_MAX,
  ) {}

  /**
   * Starts a line. False when the pool is used up: take() and write what is filled first, then start
   * again (that always succeeds).
   */
  startLine(): boolean {
    if (this.current === undefined || this.used + LINE_ROOM > this.current.length) {
      if (this.current !== undefined && this.used > 0) this.filled.push(this.current.subarray(0, this.used));
      this.current = undefined;
      this.used = 0;
      const next = this.poolBuffer();
      if (next === undefined) return false;
      this.current = next;
    }
    this.lineStart = this.used;
    return true;
  }

  latin1(text: string): void {
    if (this.used + text.length > this.current!.length) this.grow(text.length);
    this.used += latin1At.call(this.current!, text, this.used);
  }

  utf8(text: string): void {
    // At most 3 bytes per UTF-16 unit; the exact length only when that bound does not fit.
    if (this.used + text.length * 3 > this.current!.length) {
      const n = Buffer.byteLength(text, 'utf8');
      if (this.used + n > this.current!.length) this.grow(n);
    }
    this.used += utf8At.call(this.current!, text, this.used);
  }

  bytes(data: Uint8Array): void {
    if (this.used + data.length > this.current!.length) this.grow(data.length);
    this.current!.set(data, this.used);
    this.used += data.length;
  }

  /** Ends the line with its newline; returns its hash (hex SHA-256 of the line, newline excluded). */
  endLine(): string {
    if (this.used + 1 > this.current!.length) this.grow(1);
    const buf = this.current!;
    const digest = sha256Hex(buf.subarray(this.lineStart, this.used));
    buf[this.used] = 0x0a;
    this.used += 1;
    this.pendingBytes += this.used - this.lineStart;
    return digest;
  }

  /** Discards what was written of the current line. */
  abortLine(): void {
    this.used = this.lineStart;
  }

  /** The bytes of the current line so far, in place (valid until the next write). */
  lineView(): Buffer {
    return this.current!.subarray(this.lineStart, this.used);
  }

  /** Cuts the current line back to its first `length` bytes. */
  truncateLine(length: number): void {
    this.used = this.lineStart + length;
  }

  /** Ends the current line as it is, with no newline and no hash (a spill frame); returns its length. */
  endRaw(): number {
    const n = this.used - this.lineStart;
    this.pendingBytes += n;
    return n;
  }

  /** A whole line given as a string: startLine() first. */
  appendLine(line: string): string {
    this.utf8(line);
    return this.endLine();
  }

  /** The filled parts, in order; the pool's buffers may be reused once they are written. */
  take(): Buffer[] {
    const parts = this.filled;
    if (this.current !== undefined && this.used > 0) parts.push(this.current.subarray(0, this.used));
    this.filled = [];
    this.current = undefined;
    this.used = 0;
    this.lineStart = 0;
    this.index = 0;
    this.pendingBytes = 0;
    return parts;
  }

  private poolBuffer(): Buffer | undefined {
    if (this.index >= this.maxBuffers) return undefined;
    let next = this.pool[this.index];
    if (next === undefined) {
      next = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
      this.pool.push(next);
    }
    this.index += 1;
    return next;
  }

  /** Mid-line, `n` more bytes do not fit: the partial line moves to a buffer with room for it, its rest and the newline. */
  private grow(n: number): void {
    const buf = this.current!;
    const partial = buf.subarray(this.lineStart, this.used);
    const need = partial.length + n + 1;
    if (this.lineStart > 0) this.filled.push(buf.subarray(0, this.lineStart));
    const pooled = need <= WRITE_BUFFER_BYTES && buf.length === WRITE_BUFFER_BYTES ? this.poolBuffer() : undefined;
    // A line too big for a pool buffer (or no pool buffer left): one of its own, with room to grow.
    const next = pooled ?? Buffer.allocUnsafe(Math.max(need * 2, WRITE_BUFFER_BYTES));
    partial.copy(next, 0);
    this.current = next;
    this.lineStart = 0;
    this.used = partial.length;
  }
}

/** The parts left after the first `n` bytes were written (a short writev). */
export function dropBytes(parts: Buffer[], n: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = n;
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    rest.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return rest;
}
