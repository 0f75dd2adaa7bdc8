import { createHash } from 'node:crypto';

/** prev_hash of the first record of a chain. */
export const ZERO_HASH = '0'.repeat(64);

/** A record's hash: lowercase hex SHA-256 of its line's bytes, without the trailing newline. */
export function hashLine(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
