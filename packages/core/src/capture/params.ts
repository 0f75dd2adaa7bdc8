import { createHash, type Hash } from 'node:crypto';
import type { ParamsMode, StatementInfo } from '../event/types.js';

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
  let k = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (k.length > 64) k = createHash('sha256').update(k).digest();
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < k.length; i++) {
    ipad[i]! ^= k[i]!;
    opad[i]! ^= k[i]!;
  }
  const inner: Hash = createHash('sha256').update(ipad);
  const outer: Hash = createHash('sha256').update(opad);
  return (data) => outer.copy().update(inner.copy().update(data).digest()).digest();
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
      const mac = hmacSha256(key);
      return (values) => {
        if (!values || values.length === 0) return undefined;
        const out: unknown[] = new Array(values.length);
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          // null stays null: that a value was absent is rarely sensitive and is often what an investigation needs.
          out[i] = v === null || v === undefined ? null : `hmac:${mac(bytesOf(v)).toString('base64url')}`;
        }
        return { mode, count: values.length, values: out };
      };
    }
  }
}
