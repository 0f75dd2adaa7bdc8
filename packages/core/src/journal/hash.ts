import * as crypto from 'node:crypto';

/** prev_hash of the first record of a chain. */
export const ZERO_HASH = '0'.repeat(64);

type OneShotHash = (algorithm: string, data: string | Uint8Array, outputEncoding: 'hex' | 'base64url' | 'latin1' | 'buffer') => string | Buffer;

/**
 * crypto.hash (Node ≥ 20.12): a one-shot digest without a Hash object per call, about half the cost
 * of createHash().update().digest() for a journal line. Older Node versions take the long way.
 */
const oneShot: OneShotHash | undefined =
  typeof (crypto as { hash?: unknown }).hash === 'function' ? ((crypto as unknown as { hash: OneShotHash }).hash as OneShotHash) : undefined;

/** Lowercase hex SHA-256. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return oneShot ? (oneShot('sha256', bytes, 'hex') as string) : crypto.createHash('sha256').update(bytes).digest('hex');
}

/**
 * The 32 digest bytes as a latin1 string (one char per byte). Cheaper than a Buffer result, whose
 * allocation costs several times the hashing of a short value; write it into a buffer with 'latin1'.
 */
export function sha256Latin1(bytes: Uint8Array | string): string {
  return oneShot ? (oneShot('sha256', bytes, 'latin1') as string) : crypto.createHash('sha256').update(bytes).digest().toString('latin1');
}

/** SHA-256 in base64url (no padding). */
export function sha256Base64url(bytes: Uint8Array | string): string {
  return oneShot ? (oneShot('sha256', bytes, 'base64url') as string) : crypto.createHash('sha256').update(bytes).digest('base64url');
}

/** A record's hash: lowercase hex SHA-256 of its line's bytes, without the trailing newline. */
export function hashLine(bytes: Uint8Array | string): string {
  return sha256Hex(bytes);
}
