import { randomBytes } from 'node:crypto';
import type { IntegrityInfo, QuerytrailEvent } from '../event/types.js';
import { ZERO_HASH } from './hash.js';

/**
 * A spilled record is its journal line without its chain position, which only the writer knows:
 *
 *     [u32 LE prefix length][u32 LE suffix length][prefix][suffix]
 *
 * and the writer chains it as prefix + `,"integrity":{…}` + suffix. To cut a line there, it is encoded
 * with a sentinel integrity (a per-journal random chain_id, seq 0) and split around the first
 * occurrence of that member. Every event puts `integrity` right after its head (schema, event_id,
 * type, times), before any application-supplied value, and a JSON string cannot contain the member's
 * unescaped quotes, so the first occurrence is ours; HEAD_RE checks that it sits where expected.
 */
export const FRAME_HEADER_BYTES = 8;
/** A prefix is the line's head, a few hundred bytes; anything longer is not one of ours. */
export const MAX_PREFIX_BYTES = 64 * 1024;
/** Largest suffix a frame may announce (a statement is truncated long before this). */
export const MAX_SUFFIX_BYTES = 1024 * 1024 * 1024;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The members that may precede `integrity`: the event's head, each a JSON string or number. */
const HEAD_KEYS = ['schema', 'event_id', 'type', 'time', 'start_time', 'end_time', 'duration_us'] as const;
const HEAD_KEY = `"(?:${HEAD_KEYS.join('|')})"`;
const JSON_SCALAR = String.raw`(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)`;
/** A prefix: `{` then head members only, comma-separated (the sentinel member brings its own comma). */
const HEAD_RE = new RegExp(`^\\{${HEAD_KEY}:${JSON_SCALAR}(?:,${HEAD_KEY}:${JSON_SCALAR})*$`);

/** `,"integrity":{…}` exactly as JSON.stringify writes an IntegrityInfo inside an event. */
export function integrityMember(i: IntegrityInfo): string {
  // chain_id (a UUID or the sentinel token) and prev_hash (hex) never need escaping; seq is an integer.
  return `,"integrity":{"chain_id":"${i.chain_id}","seq":${i.seq},"prev_hash":"${i.prev_hash}"}`;
}

export interface Sentinel {
  readonly integrity: IntegrityInfo;
  /** integrityMember(integrity) as bytes. */
  readonly bytes: Buffer;
}

/**
 * A fresh sentinel. A spilled record's listener event may keep it as its `integrity` (seq 0: the
 * record was spilled, and its chain position exists only in the journal's line).
 */
export function newSentinel(): Sentinel {
  const integrity: IntegrityInfo = Object.freeze({ chain_id: `spill-${randomBytes(16).toString('hex')}`, seq: 0, prev_hash: ZERO_HASH });
  return { integrity, bytes: Buffer.from(integrityMember(integrity), 'latin1') };
}

/**
 * Turns `view` = [8 header bytes][line encoded with the sentinel] into a frame, in place: finds the
 * sentinel member, checks that only head members precede it, moves the suffix over it and fills in
 * the header. Returns the frame's length, or 0 when the line is not as expected (the caller re-encodes
 * it with headFirst()).
 */
export function frameInPlace(view: Buffer, sentinel: Sentinel): number {
  const at = view.indexOf(sentinel.bytes, FRAME_HEADER_BYTES);
  if (at < 0) return 0;
  const prefix = at - FRAME_HEADER_BYTES;
  if (prefix > MAX_PREFIX_BYTES || !HEAD_RE.test(view.toString('latin1', FRAME_HEADER_BYTES, at))) return 0;
  const skip = sentinel.bytes.length;
  const suffix = view.length - at - skip;
  if (suffix < 1 || view[view.length - 1] !== CLOSE_BRACE) return 0;
  view.copyWithin(at, at + skip);
  view.writeUInt32LE(prefix, 0);
  view.writeUInt32LE(suffix, 4);
  return FRAME_HEADER_BYTES + prefix + suffix;
}

/**
 * The event rebuilt with its head first and `integrity` right after it: what a record whose line does
 * not have that shape (an application-built event, say) is spilled as. Values that cannot be a head
 * member (not a string or number) stay after `integrity`, in their order.
 */
export function headFirst(event: QuerytrailEvent, integrity: IntegrityInfo): Record<string, unknown> {
  const source = event as unknown as Record<string, unknown>;
  // No prototype: an own key such as `__proto__` or `toString` is copied as data like any other.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const k of HEAD_KEYS) {
    const v = source[k];
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) out[k] = v;
  }
  out.integrity = integrity;
  for (const k of Object.keys(source)) if (!Object.hasOwn(out, k)) out[k] = source[k];
  return out;
}

export type FrameHeader =
  /** A whole frame: its prefix and suffix lengths. */
  | { prefix: number; suffix: number; total: number; complete: true }
  /** The header is there but the frame runs past `end` (total is known). */
  | { prefix: number; suffix: number; total: number; complete: false };

/**
 * Reads the frame starting at `at` in `buf` (valid bytes up to `end`). 'short' when not even the
 * header is there; 'invalid' when the bytes are not a frame (garbage, or a torn write); a header
 * whose frame does not end before `end` has `complete: false`.
 */
export function readFrameHeader(buf: Buffer, at: number, end: number): FrameHeader | 'short' | 'invalid' {
  if (end - at < FRAME_HEADER_BYTES) return 'short';
  const prefix = buf.readUInt32LE(at);
  const suffix = buf.readUInt32LE(at + 4);
  if (prefix < 2 || prefix > MAX_PREFIX_BYTES || suffix < 1 || suffix > MAX_SUFFIX_BYTES) return 'invalid';
  const total = FRAME_HEADER_BYTES + prefix + suffix;
  if (end - at < total) {
    // What is there of the frame must still look like one.
    if (end - at > FRAME_HEADER_BYTES && buf[at + FRAME_HEADER_BYTES] !== OPEN_BRACE) return 'invalid';
    return { prefix, suffix, total, complete: false };
  }
  if (buf[at + FRAME_HEADER_BYTES] !== OPEN_BRACE || buf[at + total - 1] !== CLOSE_BRACE) return 'invalid';
  return { prefix, suffix, total, complete: true };
}

const EVENT_ID_RE = /"event_id":"([^"\\]{1,64})"/;

/** The event_id in the head of a line or a frame's prefix (latin1 text of its first bytes). */
export function eventIdOf(head: string): string | undefined {
  return EVENT_ID_RE.exec(head)?.[1];
}
