import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 } from '../../src/event/uuidv7.js';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('uuidv7: RFC 9562 layout (version 7, variant 10) with the 48-bit millisecond time first', () => {
  const id = uuidv7(0x0123456789ab);
  assert.match(id, FORMAT);
  assert.equal(id.slice(0, 13), '01234567-89ab');
  assert.equal(uuidv7(0).slice(0, 13), '00000000-0000');
  assert.equal(uuidv7(2 ** 48 - 1).slice(0, 13), 'ffffffff-ffff');
});

test('uuidv7: distinct across many pool refills, each a fresh string', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const id = uuidv7(1_700_000_000_000);
    assert.match(id, FORMAT);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
});
