import { sha256Hex } from './hash.js';

/** Size of one writer buffer. */
export const WRITE_BUFFER_BYTES = 1024 * 1024;
/** Buffers kept for reuse between batches: the writer's memory is bounded by this many MiB (plus one oversized line). */
export const WRITE_BUFFERS_MAX = 8;

/**
 * The lines of one batch, encoded into a pool of reused 1 MiB buffers. A line is encoded once,
 * hashed from its bytes in place and written from there; `take()` hands the filled parts to one
 * writev. The pool (owned by the journal) keeps at most WRITE_BUFFERS_MAX buffers; a line larger
 * than one buffer gets a buffer of its own that is not kept.
 */
export class BatchBuffers {
  private index = 0;
  private used = 0;
  private current: Buffer | undefined;
  private filled: Buffer[] = [];
  /** Bytes encoded and not yet taken. */
  bytes = 0;

  constructor(private readonly pool: Buffer[]) {}

  /**
   * Makes room for `room` bytes in the current buffer. False when the pool is exhausted: take()
   * and write what is filled first, then reserve again (that always succeeds).
   */
  reserve(room: number): boolean {
    if (this.current !== undefined && this.used + room <= this.current.length) return true;
    if (this.current !== undefined && this.used > 0) this.filled.push(this.current.subarray(0, this.used));
    if (room > WRITE_BUFFER_BYTES) {
      // One huge line: a buffer of its own, not kept in the pool.
      this.current = Buffer.allocUnsafe(room);
      this.used = 0;
      return true;
    }
    if (this.index >= WRITE_BUFFERS_MAX) return this.exhausted();
    let next = this.pool[this.index];
    if (next === undefined) {
      next = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
      this.pool.push(next);
    }
    this.index += 1;
    this.current = next;
    this.used = 0;
    return true;
  }

  /** Encodes the line and its newline after the last one; returns the line's hash (hex SHA-256, newline excluded). */
  appendLine(line: string): string {
    const buf = this.current!;
    const n = buf.write(line, this.used, 'utf8');
    const digest = sha256Hex(buf.subarray(this.used, this.used + n));
    buf[this.used + n] = 0x0a;
    this.used += n + 1;
    this.bytes += n + 1;
    return digest;
  }

  /** The filled parts, in order; the pool's buffers may be reused once they are written. */
  take(): Buffer[] {
    const parts = this.filled;
    if (this.current !== undefined && this.used > 0) parts.push(this.current.subarray(0, this.used));
    this.filled = [];
    this.current = undefined;
    this.used = 0;
    this.index = 0;
    this.bytes = 0;
    return parts;
  }

  private exhausted(): boolean {
    this.current = undefined;
    this.used = 0;
    return false;
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
