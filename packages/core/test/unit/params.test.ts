import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createParamsEncoder } from '../../src/capture/params.js';

const key = Buffer.alloc(32, 7);

test('hashed (default): equal values correlate, values are not revealed, null stays null', () => {
  const enc = createParamsEncoder({ hmacKey: key }, key);
  const a = enc(['078-05-1120', 42, null, Buffer.from('x')])!;
  const b = enc(['078-05-1120'])!;
  assert.equal(a.mode, 'hashed');
  assert.equal(a.count, 4);
  assert.match(String(a.values![0]), /^hmac:[A-Za-z0-9_-]{43}$/);
  assert.equal(a.values![0], b.values![0]);
  assert.ok(!JSON.stringify(a).includes('078-05-1120'));
  assert.equal(a.values![2], null);
  const otherKey = createParamsEncoder({ hmacKey: Buffer.alloc(32, 8) }, key)(['078-05-1120'])!;
  assert.notEqual(otherKey.values![0], a.values![0]);
});

test('omitted, redacted and raw modes', () => {
  assert.deepEqual(createParamsEncoder({ mode: 'omitted' }, key)([1, 2]), { mode: 'omitted', count: 2 });
  assert.deepEqual(createParamsEncoder({ mode: 'redacted' }, key)([1]), { mode: 'redacted', count: 1, values: ['[redacted]'] });
  const raw = createParamsEncoder({ mode: 'raw', maxRawLength: 4 }, key)(['abcdefgh', 5, 10n, new Date(0), Buffer.alloc(3), undefined])!;
  assert.deepEqual(raw.values, ['abcd…', 5, '10', '1970-01-01T00:00:00.000Z', '<3 bytes>', null]);
});

test('no params: nothing recorded', () => {
  assert.equal(createParamsEncoder({}, key)(undefined), undefined);
  assert.equal(createParamsEncoder({}, key)([]), undefined);
});

test('the precomputed HMAC equals node:crypto createHmac for short, 64-byte and long keys', async () => {
  const { createHmac, randomBytes } = await import('node:crypto');
  const { hmacSha256 } = await import('../../src/capture/params.js');
  for (const key of [Buffer.alloc(0), Buffer.from('k'), randomBytes(32), randomBytes(64), randomBytes(100), 'text key']) {
    const mac = hmacSha256(key);
    for (const data of ['', 'a', '078-05-1120', 'x'.repeat(1000), Buffer.from([0, 1, 2, 255])]) {
      assert.deepEqual(mac(data), createHmac('sha256', key).update(data).digest());
      assert.deepEqual(mac(data), createHmac('sha256', key).update(data).digest(), 'the kept states are not consumed');
    }
  }
});

test('hmac: text equals createHmac for values of every length class, reused views included', async () => {
  const { createHmac, randomBytes } = await import('node:crypto');
  const { hmacText } = await import('../../src/capture/params.js');
  for (const key of [randomBytes(32), 'text key']) {
    const mac = hmacText(key);
    const values: (string | Uint8Array)[] = [];
    for (const n of [0, 1, 2, 17, 255, 256, 257, 1000, 4096, 5000]) {
      values.push('a'.repeat(n), 'b'.repeat(n), 'é'.repeat(n), randomBytes(n));
    }
    // Twice: the second pass goes through the views kept per length, with other contents written into them.
    for (let pass = 0; pass < 2; pass++) {
      for (const v of values) assert.equal(mac(v), `hmac:${createHmac('sha256', key).update(v).digest('base64url')}`);
    }
  }
});
