import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF).update(data).digest();
}

/** RFC 6962 interior node: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/**
 * Incremental RFC 6962 Merkle tree head. Keeps one root per perfect subtree (the binary digits of
 * the leaf count), so an append costs O(log n) and the root of all leaves so far is a fold of at most
 * log n roots: the largest-power-of-two split of RFC 6962 is exactly this decomposition.
 */
export class MerkleAccumulator {
  private readonly stack: { size: number; hash: Buffer }[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends a leaf whose data is `data` (we use the 32 raw bytes of the record hash). */
  append(data: Uint8Array): void {
    let node = { size: 1, hash: leafHash(data) };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.count += 1;
  }

  /** The tree head over every leaf appended so far (RFC 6962 MTH). */
  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let h = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash(this.stack[i]!.hash, h);
    return h;
  }
}
