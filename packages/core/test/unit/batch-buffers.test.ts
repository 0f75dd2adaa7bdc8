import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchBuffers, dropBytes, WRITE_BUFFER_BYTES, WRITE_BUFFERS_MAX } from '../../src/journal/batch-buffers.js';
import { sha256Hex } from '../../src/journal/hash.js';

test('BatchBuffers: lines land in order across buffers, each hashed without its newline', () => {
  const pool: Buffer[] = [];
  const out = new BatchBuffers(pool);
  const line = `{"v":"${'é'.repeat(100_000)}"}`; // 200 KB of UTF-8: five lines per buffer
  const digests: string[] = [];
  for (let i = 0; i < 12; i++) {
    assert.equal(out.reserve(line.length * 3 + 1), true);
    digests.push(out.appendLine(line));
  }
  const bytes = Buffer.concat(out.take());
  assert.equal(bytes.toString('utf8'), `${line}\n`.repeat(12));
  assert.ok(digests.every((d) => d === sha256Hex(line)));
  assert.ok(pool.length >= 2 && pool.length <= WRITE_BUFFERS_MAX);
});

test('BatchBuffers: reserve() says false once the pool is used up; after take() the buffers are reused', () => {
  const pool: Buffer[] = [];
  const out = new BatchBuffers(pool);
  const line = 'a'.repeat(WRITE_BUFFER_BYTES / 2);
  let appended = 0;
  while (out.reserve(line.length + 1)) {
    out.appendLine(line);
    appended++;
  }
  assert.equal(appended, WRITE_BUFFERS_MAX); // one half-MiB line + newline per buffer: the second does not fit
  const parts = out.take();
  assert.equal(parts.length, WRITE_BUFFERS_MAX);
  assert.equal(out.bytes, 0);
  assert.equal(out.reserve(line.length + 1), true);
  assert.equal(pool.length, WRITE_BUFFERS_MAX, 'no new buffer allocated');
});

test('BatchBuffers: a line larger than a buffer gets its own, outside the pool', () => {
  const pool: Buffer[] = [];
  const out = new BatchBuffers(pool);
  out.reserve(10);
  out.appendLine('first');
  const huge = 'h'.repeat(WRITE_BUFFER_BYTES + 5);
  assert.equal(out.reserve(huge.length + 1), true);
  out.appendLine(huge);
  out.reserve(10);
  out.appendLine('last');
  assert.equal(Buffer.concat(out.take()).toString(), `first\n${huge}\nlast\n`);
  assert.ok(pool.every((b) => b.length === WRITE_BUFFER_BYTES));
});

test('dropBytes: what is left after a short write', () => {
  const parts = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];
  assert.equal(Buffer.concat(dropBytes(parts, 0)).toString(), 'abcdefghi');
  assert.equal(Buffer.concat(dropBytes(parts, 3)).toString(), 'defghi');
  assert.equal(Buffer.concat(dropBytes(parts, 5)).toString(), 'fghi');
  assert.equal(dropBytes(parts, 9).length, 0);
});
