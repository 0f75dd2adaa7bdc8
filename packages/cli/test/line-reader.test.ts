import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LineReader, type StoredLine } from '../src/events/line-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'qt-cli-lines-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function readAll(reader: LineReader): StoredLine[] {
  const out: StoredLine[] = [];
  reader.readAvailable((l) => {
    out.push({ ...l, bytes: Buffer.from(l.bytes) });
  });
  return out;
}

test('LineReader: a line still being written is left for the next read, then read whole with the right number', () => {
  const file = join(dir, 'growing.jsonl');
  writeFileSync(file, '{"a":1}\n{"b":');
  const reader = new LineReader(file);
  assert.deepEqual(readAll(reader).map((l) => [l.line, l.bytes.toString()]), [[1, '{"a":1}']]);
  assert.equal(reader.pending, 5);
  assert.equal(reader.offset, 8);
  appendFileSync(file, '2}\n{"c":3}\n');
  assert.deepEqual(readAll(reader).map((l) => [l.line, l.bytes.toString()]), [
    [2, '{"b":2}'],
    [3, '{"c":3}'],
  ]);
  assert.equal(reader.pending, 0);
  assert.deepEqual(readAll(reader), []);
});

test('LineReader: lines that cross the 1 MiB read chunk come back whole, byte for byte', () => {
  const file = join(dir, 'big.jsonl');
  const lines = Array.from({ length: 5 }, (_, i) => `{"i":${i},"pad":"${'é'.repeat(300_000 + i)}"}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const got = readAll(new LineReader(file));
  assert.equal(got.length, 5);
  for (const [i, l] of got.entries()) assert.ok(l.bytes.equals(Buffer.from(lines[i]!)), `line ${i + 1}`);
});

test('LineReader: stopping early keeps the offset at the next unread line; skipToEnd counts lines', () => {
  const file = join(dir, 'stop.jsonl');
  writeFileSync(file, 'a\nb\nc\n');
  const reader = new LineReader(file);
  const seen: string[] = [];
  reader.readAvailable((l) => {
    seen.push(l.bytes.toString());
    return seen.length < 2;
  });
  assert.deepEqual(seen, ['a', 'b']);
  assert.equal(reader.offset, 4);
  reader.skipToEnd();
  assert.equal(reader.lineNumber, 3);
  assert.equal(reader.offset, 6);
});

test('LineReader: a line beyond the limit is reported by its length, never held, and reading goes on after it', () => {
  const file = join(dir, 'long.jsonl');
  writeFileSync(file, `short\n${'x'.repeat(3_000_000)}\nafter\n`);
  const got = readAll(new LineReader(file, 1_000_000));
  assert.deepEqual(
    got.map((l) => [l.line, l.oversized ?? l.bytes.toString()]),
    [
      [1, 'short'],
      [2, 3_000_000],
      [3, 'after'],
    ],
  );
});
