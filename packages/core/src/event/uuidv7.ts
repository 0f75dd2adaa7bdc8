import { randomFillSync } from 'node:crypto';

/** RFC 9562 UUIDv7: 48-bit millisecond time, then random bits; ids sort by creation time. */
const pool = Buffer.allocUnsafe(16 * 256);
let poolOffset = pool.length;
/** The 36 characters of one id, written in place and decoded once: one flat string per id. */
const text = Buffer.allocUnsafe(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in the text (the dashes sit at 8, 13, 18 and 23). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text[8] = text[13] = text[18] = text[23] = 0x2d;

export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += 16;
  // 48-bit big-endian timestamp, version 7, variant 10.
  pool[o] = Math.floor(now / 2 ** 40) & 0xff;
  pool[o + 1] = Math.floor(now / 2 ** 32) & 0xff;
  pool[o + 2] = (now >>> 24) & 0xff;
  pool[o + 3] = (now >>> 16) & 0xff;
  pool[o + 4] = (now >>> 8) & 0xff;
  pool[o + 5] = now & 0xff;
  pool[o + 6] = 0x70 | (pool[o + 6]! & 0x0f);
  pool[o + 8] = 0x80 | (pool[o + 8]! & 0x3f);
  for (let i = 0; i < 16; i++) {
    const byte = pool[o + i]!;
    const at = AT[i]!;
    text[at] = HEX[byte >>> 4]!;
    text[at + 1] = HEX[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
