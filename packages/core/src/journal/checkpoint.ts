import { createHash, type KeyObject, sign, verify } from 'node:crypto';

export const CHECKPOINT_SCHEMA = 'querytrail.checkpoint/1' as const;

/**
 * A signed statement about a chain prefix: records 1..count, the last one hashing to last_hash, all
 * of them forming merkle_root. Checkpoints of a chain form their own chain through prev_checkpoint.
 * One JSON line each in qt-<chain_id>.checkpoints.jsonl (docs/integrity.md).
 */
export interface Checkpoint {
  schema: typeof CHECKPOINT_SCHEMA;
  chain_id: string;
  /** 1-based number of this checkpoint within its chain. */
  index: number;
  time: string;
  /** Records 1..count are covered. */
  count: number;
  /** Record hash (hex) of record `count`. */
  last_hash: string;
  /** RFC 6962 Merkle tree head (hex) over leaves = raw 32-byte record hashes of records 1..count. */
  merkle_root: string;
  /** SHA-256 (hex) of the previous checkpoint's line bytes; 64 zeros for the first. */
  prev_checkpoint: string;
  key_id: string;
  /** Why it was written: interval, records, idle, rotation, close. */
  reason: string;
  /** Ed25519 signature (base64) over signedPayload(checkpoint). */
  signature: string;
}

/**
 * The exact bytes signed: fields joined by "\n", no trailing newline, UTF-8. A fixed text layout
 * rather than JSON, so an independent verifier needs no canonicalisation.
 */
export function signedPayload(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(
    [CHECKPOINT_SCHEMA, c.chain_id, String(c.index), c.time, String(c.count), c.last_hash, c.merkle_root, c.prev_checkpoint, c.key_id, c.reason].join(
      '\n',
    ),
    'utf8',
  );
}

export function signCheckpoint(c: Omit<Checkpoint, 'signature'>, privateKey: KeyObject): Checkpoint {
  return { ...c, signature: sign(null, signedPayload(c), privateKey).toString('base64') };
}

export function verifyCheckpointSignature(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedPayload(c), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

export function checkpointLineHash(line: Uint8Array | string): string {
  return createHash('sha256').update(line).digest('hex');
}
