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
    assert.equal(out.startLine(), true);
    digests.push(out.appendLine(line));
  }
  const bytes = Buffer.concat(out.take());
  assert.equal(bytes.toString('utf8'), `${line}\n`.repeat(12));
  assert.ok(digests.every((d) => d === sha256Hex(line)));
  assert.ok(pool.length >= 2 && pool.length <= WRITE_BUFFERS_MAX);
});

test('BatchBuffers: startLine() says false once the pool is used up; after take() the buffers are reused', () => {
  const pool: Buffer[] = [];
  const out = new BatchBuffers(pool);
  const line = 'a'.repeat(WRITE_BUFFER_BYTES / 2);
  let appended = 0;
  while (out.startLine()) {
    out.appendLine(line);
    appended++;
  }
  // One half-MiB line + newline per buffer: the second moves to the next buffer; the last buffer's
  // second line has nowhere to go and gets a buffer of its own (not pooled).
  assert.ok(appended >= WRITE_BUFFERS_MAX && appended <= 2 * WRITE_BUFFERS_MAX, String(appended));
  const parts = out.take();
  assert.equal(Buffer.concat(parts).toString(), `${line}\n`.repeat(appended));
  assert.equal(out.pendingBytes, 0);
  assert.equal(out.startLine(), true);
  assert.equal(pool.length, WRITE_BUFFERS_MAX, 'no new pooled buffer allocated');
});

test('BatchBuffers: a line written in pieces (latin1, utf8, bytes) is the UTF-8 of its text; abortLine() discards it', () => {
  const out = new BatchBuffers([]);
  out.startLine();
  out.latin1('{"a":"');
  out.utf8('é☃𝄞');
  out.bytes(Buffer.from('","b":1}'));
  const d1 = out.endLine();
  out.startLine();
  out.latin1('garbage');
  out.abortLine();
  out.startLine();
  out.utf8('{}');
  out.endLine();
  assert.equal(Buffer.concat(out.take()).toString('utf8'), '{"a":"é☃𝄞","b":1}\n{}\n');
  assert.equal(d1, sha256Hex(Buffer.from('{"a":"é☃𝄞","b":1}', 'utf8')));
});

test('BatchBuffers: a line that outgrows its buffer mid-way moves whole, after the complete lines before it', () => {
  const out = new BatchBuffers([]);
  const first = 'f'.repeat(WRITE_BUFFER_BYTES - 5000);
  out.startLine();
  out.appendLine(first);
  out.startLine(); // 4,999 bytes left: enough to start
  out.latin1('{"x":"');
  out.bytes(Buffer.alloc(10_000, 0x62)); // does not fit: the partial line moves
  out.utf8('"}');
  out.endLine();
  assert.equal(Buffer.concat(out.take()).toString(), `${first}\n{"x":"${'b'.repeat(10_000)}"}\n`);
});

test('BatchBuffers: a line larger than a buffer gets its own, outside the pool', () => {
  const pool: Buffer[] = [];
  const out = new BatchBuffers(pool);
  out.startLine();
  out.appendLine('first');
  const huge = 'h'.repeat(WRITE_BUFFER_BYTES + 5);
  assert.equal(out.startLine(), true);
  out.appendLine(huge);
  out.startLine();
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
