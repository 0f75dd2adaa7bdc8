import { createHash, type Hash } from 'node:crypto';
import type { ParamsMode, StatementInfo } from '../event/types.js';
import { sha256Base64url, sha256Latin1 } from '../journal/hash.js';
import { latin1At, utf8At } from '../journal/encode-at.js';

export interface ParamsOptions {
  /** Default 'hashed': HMAC-SHA256 with `hmacKey`, so equal values correlate without being revealed. */
  mode?: ParamsMode;
  /** Key for hashed mode. Default: QUERYTRAIL_PARAM_KEY, else a random key per process (no cross-process correlation). */
  hmacKey?: string | Uint8Array;
  /** Raw mode: longer strings are cut to this many characters. Default 256. */
  maxRawLength?: number;
}

export type ParamsEncoder = (values: readonly unknown[] | undefined) => StatementInfo['params'] | undefined;

function bytesOf(value: unknown): string | Uint8Array {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function rawValue(value: unknown, max: number): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  const s = bytesOf(value);
  return typeof s === 'string' ? rawValue(s, max) : `<${s.byteLength} bytes>`;
}

/**
 * HMAC-SHA256 (RFC 2104) with the key schedule done once: the inner and outer hash states after the
 * padded key are kept and copied per value (Hash#copy), which saves creating an Hmac per value.
 */
export function hmacSha256(key: string | Uint8Array): (data: string | Uint8Array) => Buffer {
  const { inner, outer } = padKey(key);
  const innerHash: Hash = createHash('sha256').update(inner);
  const outerHash: Hash = createHash('sha256').update(outer);
  return (data) => outerHash.copy().update(innerHash.copy().update(data).digest()).digest();
}

function padKey(key: string | Uint8Array): { inner: Buffer; outer: Buffer } {
  let k = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (k.length > 64) k = createHash('sha256').update(k).digest();
  const inner = Buffer.alloc(64, 0x36);
  const outer = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < k.length; i++) {
    inner[i]! ^= k[i]!;
    outer[i]! ^= k[i]!;
  }
  return { inner, outer };
}

/** Values up to this many UTF-8 bytes are hashed from a reused buffer (the common case). */
const SCRATCH_VALUE_BYTES = 4096;
/** Values shorter than this many bytes are hashed through a view kept per length. */
const SHORT_VALUE_VIEWS = 256;

/**
 * The `hmac:<base64url>` text of one value, the same bytes as createHmac('sha256', key): two one-shot
 * SHA-256 calls (crypto.hash) over reused buffers that already hold the padded key, so a short value
 * costs no Hash object, no copy of the key state and no intermediate Buffer. Longer values and Node
 * versions without crypto.hash take the Hash#copy path.
 */
export function hmacText(key: string | Uint8Array): (data: string | Uint8Array) => string {
  const { inner, outer } = padKey(key);
  const slow = hmacSha256(key);
  const innerBuf = Buffer.allocUnsafe(64 + SCRATCH_VALUE_BYTES);
  inner.copy(innerBuf, 0);
  const outerBuf = Buffer.allocUnsafe(64 + 32);
  outer.copy(outerBuf, 0);
  // The key block and a value of n bytes: views reused for short values (no Buffer made per value).
  const views: Buffer[] = [];
  const innerView = (n: number): Buffer => {
    if (n >= SHORT_VALUE_VIEWS) return innerBuf.subarray(0, 64 + n);
    let v = views[n];
    if (v === undefined) {
      v = innerBuf.subarray(0, 64 + n);
      views[n] = v;
    }
    return v;
  };
  return (data) => {
    if (typeof data === 'string' ? data.length * 3 > SCRATCH_VALUE_BYTES : data.byteLength > SCRATCH_VALUE_BYTES) {
      return `hmac:${slow(data).toString('base64url')}`;
    }
    let n: number;
    if (typeof data === 'string') {
      // utf8Write/latin1Write: Buffer#write's argument handling cost as much as the copy itself.
      n = utf8At.call(innerBuf, data, 64);
    } else {
      innerBuf.set(data, 64);
      n = data.byteLength;
    }
    latin1At.call(outerBuf, sha256Latin1(innerView(n)), 64);
    return `hmac:${sha256Base64url(outerBuf)}`;
  };
}

/** Compiled once from configuration; the query path only calls the returned function. */
export function createParamsEncoder(options: ParamsOptions | undefined, fallbackKey: Uint8Array): ParamsEncoder {
  const mode: ParamsMode = options?.mode ?? 'hashed';
  const maxRaw = options?.maxRawLength ?? 256;
  const key = options?.hmacKey ?? process.env.QUERYTRAIL_PARAM_KEY ?? fallbackKey;
  switch (mode) {
    case 'omitted':
      return (values) => (values && values.length > 0 ? { mode, count: values.length } : undefined);
    case 'redacted':
      return (values) =>
        values && values.length > 0 ? { mode, count: values.length, values: values.map(() => '[redacted]') } : undefined;
    case 'raw':
      return (values) =>
        values && values.length > 0
          ? { mode, count: values.length, values: values.map((v) => rawValue(v, maxRaw)) }
          : undefined;
    case 'hashed': {
      const mac = hmacText(key);
      return (values) => {
        if (!values || values.length === 0) return undefined;
        const out: unknown[] = new Array(values.length);
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          // null stays null: that a value was absent is rarely sensitive and is often what an investigation needs.
          out[i] = v === null || v === undefined ? null : mac(bytesOf(v));
        }
        return { mode, count: values.length, values: out };
      };
    }
  }
}
