import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeSize, readCompleteLines } from '../../src/delivery/line-reader.js';
import { Backoff } from '../../src/delivery/backoff.js';
import { tempDir } from '../support/temp-dir.js';

test('the line reader returns only complete lines, byte-exact, within its limits, and never loses a long line', async () => {
  const dir = tempDir('qt-lines-');
  const path = join(dir, 'f.jsonl');
  const long = `{"x":"${'é'.repeat(100_000)}"}`; // 200 KB of UTF-8: longer than one read chunk and than the budget
  writeFileSync(path, `a\nbb\n${long}\nccc\npartial`);
  let r = await readCompleteLines(path, 0, 10, 4);
  assert.deepEqual(r.lines.map(String), ['a'], 'a\n fits in 4 bytes, a\nbb\n does not');
  assert.ok(r.limited);
  r = await readCompleteLines(path, 0, 100, 1024 * 1024);
  assert.deepEqual(r.lines.map((l) => l.toString('utf8')), ['a', 'bb', long, 'ccc']);
  assert.equal(r.partial, 'partial'.length);
  assert.equal(r.limited, false);
  // From just before the long line with a small budget: it comes alone (oversizeFirst), or not at all.
  const at = 'a\nbb\n'.length;
  r = await readCompleteLines(path, at, 100, 1000);
  assert.equal(r.lines.length, 1);
  assert.ok(r.lines[0]!.equals(Buffer.from(long)));
  r = await readCompleteLines(path, at, 100, 1000, false);
  assert.deepEqual([r.lines.length, r.end, r.limited], [0, at, true]);
  // The torn tail becomes readable once its newline is written.
  assert.equal(await completeSize(path), Buffer.byteLength(`a\nbb\n${long}\nccc\n`));
  appendFileSync(path, '\n');
  r = await readCompleteLines(path, await completeSize(path) - 'partial\n'.length, 100, 1024);
  assert.deepEqual(r.lines.map(String), ['partial']);
  assert.deepEqual(await readCompleteLines(join(dir, 'missing'), 7, 10, 10), { lines: [], end: 7, partial: 0, limited: false });
});

test('backoff: exponential ceilings with full jitter, capped, reset after success', () => {
  const max = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => max.next()), [100, 200, 400, 800, 1000, 1000]);
  max.reset();
  assert.equal(max.next(), 100);
  const zero = new Backoff({}, () => 0);
  assert.equal(zero.next(), 0, 'full jitter: anywhere from 0 up to the ceiling');
  const half = new Backoff({}, () => 0.5);
  for (let i = 0; i < 20; i++) half.next();
  assert.equal(half.next(), 15_000, 'default ceiling 30 s');
});
