import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DurableWaiters } from '../../src/journal/durable-waiters.js';

test('durable waiters: settled ones are never refused; one left waiting is refused at its deadline, once', async () => {
  const waiters = new DurableWaiters(80, () => new Error('too late'));
  const outcomes: string[] = [];
  const batch = Array.from({ length: 3000 }, (_, i) =>
    waiters.add(
      () => outcomes.push(`ok ${i}`),
      () => outcomes.push(`refused ${i}`),
    ),
  );
  const late = waiters.add(
    () => outcomes.push('ok late'),
    (e) => outcomes.push(`refused late: ${e.message}`),
  );
  // Settled out of order and in pieces, as overlapping fdatasyncs may do.
  waiters.resolve(batch.slice(1500));
  waiters.resolve(batch.slice(0, 1500));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(outcomes.filter((o) => o.startsWith('ok ')).length, 3000);
  assert.deepEqual(outcomes.slice(3000), ['refused late: too late']);
  // Durable after all, but too late: the statement stays refused (it was never sent).
  waiters.resolve([late]);
  assert.equal(outcomes.length, 3001);
});

test('durable waiters: a waiter added after a sweep gets its own full timeout', async () => {
  const waiters = new DurableWaiters(60, () => new Error('too late'));
  const outcomes: string[] = [];
  const first = waiters.add(() => outcomes.push('first'), () => outcomes.push('first refused'));
  await new Promise((r) => setTimeout(r, 40));
  waiters.add(() => outcomes.push('second'), () => outcomes.push('second refused'));
  waiters.resolve([first]);
  await new Promise((r) => setTimeout(r, 40)); // 80 ms after the first, 40 after the second
  assert.deepEqual(outcomes, ['first']);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(outcomes, ['first', 'second refused']);
});
