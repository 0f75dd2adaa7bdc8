/** onAlert hooks: run off the query path; throwing, rejecting and hanging hooks never break anything. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type AlertInfo, createAlertHookRunner, definePolicy } from '../../src/policy/index.js';
import { decide, ready } from './helpers.js';

before(() => ready);

const alert: AlertInfo = { kind: 'block', rule_id: 'destructive', reason: 'x', severity: 'high', mode: 'enforce' };

describe('onAlert hooks', () => {
  it('dispatch returns at once: hooks run later, never on the caller\'s stack', async () => {
    const seen: string[] = [];
    const runner = createAlertHookRunner([(a) => void seen.push(a.rule_id)]);
    runner.dispatch(alert);
    assert.deepEqual(seen, [], 'not yet');
    await runner.idle();
    assert.deepEqual(seen, ['destructive']);
    assert.equal(runner.stats().completed, 1);
  });

  it('a hook that throws or rejects is isolated; the others still run', async () => {
    const errors: string[] = [];
    const seen: string[] = [];
    const runner = createAlertHookRunner(
      [
        () => {
          throw new Error('boom');
        },
        async () => {
          throw new Error('async boom');
        },
        (a) => void seen.push(a.kind),
      ],
      { onHookError: (e) => void errors.push((e as Error).message) },
    );
    assert.doesNotThrow(() => runner.dispatch(alert));
    await runner.idle();
    assert.deepEqual(seen, ['block']);
    assert.deepEqual(errors.sort(), ['async boom', 'boom']);
    assert.deepEqual({ ...runner.stats(), pending: 0 }, { dispatched: 3, completed: 1, failed: 2, timedOut: 0, dropped: 0, pending: 0 });
  });

  it('a hanging hook is abandoned after timeoutMs; a throwing onHookError is ignored too', async () => {
    const runner = createAlertHookRunner([() => new Promise<void>(() => {})], {
      timeoutMs: 30,
      onHookError: () => {
        throw new Error('reporter broken');
      },
    });
    const t0 = performance.now();
    runner.dispatch(alert);
    assert.ok(performance.now() - t0 < 5, 'dispatch does not wait');
    await runner.idle();
    const s = runner.stats();
    assert.equal(s.timedOut, 1);
    assert.equal(s.pending, 0);
    assert.ok(performance.now() - t0 >= 25);
  });

  it('beyond maxPending, alerts are dropped and counted, never queued without bound', async () => {
    const runner = createAlertHookRunner([() => new Promise<void>(() => {})], { timeoutMs: 20, maxPending: 3 });
    for (let i = 0; i < 10; i++) runner.dispatch(alert);
    assert.equal(runner.stats().dropped, 7);
    await runner.idle();
    assert.equal(runner.stats().timedOut, 3);
  });

  it('the policy\'s onAlert hooks get the decision\'s alerts; a hanging hook does not slow decide()', async () => {
    const got: AlertInfo[] = [];
    const policy = definePolicy({
      onAlert: [(a) => void got.push(a), () => new Promise<void>(() => {}), () => { throw new Error('x'); }],
      alertTimeoutMs: 20,
    });
    const d = decide(policy, 'DROP TABLE orders');
    assert.equal(d.action, 'block');
    for (const a of d.alerts) policy.alerts.dispatch(a, { type: 'db.query.blocked' });
    const again = decide(policy, 'DROP TABLE orders');
    assert.equal(again.action, 'block', 'decisions go on while hooks are pending');
    await policy.alerts.idle();
    assert.deepEqual(got.map((a) => a.kind), ['block']);
    assert.deepEqual([policy.alerts.stats().failed, policy.alerts.stats().timedOut], [1, 1]);
  });
});
