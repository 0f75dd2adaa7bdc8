/** Bulk reads: per statement and per actor over a sliding window, with an injected clock. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { definePolicy } from '../../src/policy/index.js';
import { alice, bob, decide, ready } from './helpers.js';

before(() => ready);

function setup(extra: Record<string, unknown> = {}) {
  let now = Date.parse('2026-04-01T12:00:00Z');
  const clock = {
    now: () => now,
    advance: (ms: number): void => {
      now += ms;
    },
  };
  const policy = definePolicy(
    {
      sensitive: [
        { category: 'pii', columns: 'public.users.email' },
        { category: 'internal', columns: 'public.orders.total' },
      ],
      bulk: { categories: ['pii'], perStatement: { alert: 100, block: 1000 }, perActor: { windowSeconds: 60, alert: 500, block: 2000 }, blockSeconds: 300, ...extra },
    },
    { clock: clock.now },
  );
  return { policy, clock };
}

describe('bulk reads', () => {
  it('only statements reading sensitive objects of the bulk categories are counted', () => {
    const { policy } = setup();
    assert.deepEqual(decide(policy, 'SELECT email FROM users').bulk, { objects: ['public.users'] });
    assert.equal(decide(policy, 'SELECT total FROM orders').bulk, undefined, 'category internal is not counted');
    assert.equal(decide(policy, 'UPDATE users SET email = $1 WHERE id = $2').bulk, undefined, 'writes are not reads');
  });

  it('per statement: alert once, then block the actor\'s NEXT statements (rows counted as a cursor reads them)', () => {
    const { policy, clock } = setup();
    const d = decide(policy, 'SELECT email FROM users', { now: clock.now() });
    const counter = policy.bulk.statement(d.actorKey, d.bulk!.objects);
    assert.deepEqual(counter.add(60), []);
    const a1 = counter.add(60);
    assert.deepEqual(a1.map((a) => [a.kind, a.rule_id, a.bulk?.scope, a.bulk?.action, a.bulk?.rows, a.bulk?.threshold]), [['bulk_read', 'bulk.per_statement', 'statement', 'alert', 120, 100]]);
    assert.deepEqual(counter.add(100), [], 'an alert fires once per statement');
    const a2 = counter.add(900);
    assert.deepEqual(a2.map((a) => [a.bulk?.scope, a.bulk?.action, a.bulk?.rows, a.bulk?.blocked_until]), [
      ['statement', 'block', 1120, '2026-04-01T12:05:00.000Z'],
      ['actor', 'alert', 1120, undefined], // the same rows also cross the per-actor alert (500 in 60 s)
    ]);
    // The current statement is not stopped (its rows are read); the next one is, for any statement.
    const next = decide(policy, 'SELECT 1', { now: clock.now() });
    assert.equal(next.action, 'block');
    assert.equal(next.decision.rule_id, 'bulk.per_statement');
    assert.match(next.decision.reason!, /one statement returned 1120 rows from sensitive objects \(block at 1000\); blocked until 2026-04-01T12:05:00.000Z/);
    assert.equal(decide(policy, 'SELECT 1', { context: bob, now: clock.now() }).action, 'allow', 'other actors are not affected');
    clock.advance(300_000);
    assert.equal(decide(policy, 'SELECT 1', { now: clock.now() }).action, 'allow', 'the block lasts blockSeconds');
  });

  it('per actor over a sliding window: rows from several statements add up, old rows fall out', () => {
    const { policy, clock } = setup({ perStatement: undefined });
    const key = 'human:alice';
    const read = (rows: number) => policy.bulk.statement(key, ['public.users']).add(rows);
    assert.deepEqual(read(300), []);
    clock.advance(30_000);
    const a = read(250); // 550 within 60 s
    assert.deepEqual(a.map((x) => [x.rule_id, x.bulk?.rows, x.bulk?.window_seconds, x.bulk?.action]), [['bulk.per_actor', 550, 60, 'alert']]);
    clock.advance(31_000); // the 300 of t=0 are out of the window
    assert.equal(policy.bulk.windowRows(key), 250);
    assert.deepEqual(read(100), [], 'still alerted (350 < 500 re-arms, but no crossing yet)');
    assert.deepEqual(read(200).map((x) => x.bulk?.rows), [550], 're-armed below the threshold, fires again on crossing');
    const b = read(1500);
    assert.deepEqual(b.map((x) => [x.bulk?.action, x.bulk?.rows]), [['block', 2050]]);
    assert.equal(decide(policy, 'SELECT email FROM users', { now: clock.now() }).decision.rule_id, 'bulk.per_actor');
    // Blocked for blockSeconds even though the window drains sooner.
    clock.advance(120_000);
    assert.equal(policy.bulk.windowRows(key), 0);
    assert.equal(decide(policy, 'SELECT 1', { now: clock.now() }).action, 'block');
    clock.advance(180_000);
    assert.equal(decide(policy, 'SELECT 1', { now: clock.now() }).action, 'allow');
  });

  it('blockScope sensitive: only the actor\'s sensitive statements are stopped', () => {
    const { policy, clock } = setup({ blockScope: 'sensitive' });
    policy.bulk.statement('human:alice', ['public.users']).add(5000);
    assert.equal(decide(policy, 'SELECT total FROM orders', { now: clock.now() }).action, 'block', 'orders.total is sensitive (internal)');
    assert.equal(decide(policy, 'SELECT id FROM orders', { now: clock.now() }).action, 'allow');
    assert.equal(decide(policy, 'SELECT email FROM users', { now: clock.now() }).action, 'block');
  });

  it('monitor: the threshold only alerts (would block)', () => {
    const { policy, clock } = setup({ mode: 'monitor' });
    const alerts = policy.bulk.statement('human:alice', ['public.users']).add(5000);
    assert.deepEqual(alerts.map((a) => [a.bulk?.scope, a.bulk?.action, a.mode]), [['statement', 'block', 'monitor'], ['actor', 'block', 'monitor']]);
    const d = decide(policy, 'SELECT email FROM users', { now: clock.now() });
    assert.equal(d.action, 'alert');
    assert.equal(d.wouldBlock, true);
    assert.equal(d.decision.rule_id, 'bulk.per_statement');
  });

  it('break-glass lifts a bulk block for one statement, recorded as an override', () => {
    const { policy, clock } = setup();
    policy.bulk.statement('human:alice', ['public.users']).add(1000);
    const d = decide(policy, 'SELECT 1', { now: clock.now(), context: { ...alice, breakGlass: { reason: 'incident export' } } });
    assert.equal(d.decision.decision, 'allow_override');
    assert.equal(d.override?.rule_id, 'bulk.per_statement');
  });

  it('statements without an actor: statement thresholds alert, nothing to block', () => {
    const { policy, clock } = setup();
    const d = decide(policy, 'SELECT email FROM users', { context: undefined, now: clock.now() });
    assert.equal(d.actorKey, undefined);
    const alerts = policy.bulk.statement(undefined, d.bulk!.objects).add(1500);
    assert.deepEqual(alerts.map((a) => [a.bulk?.action, a.actor_key]), [['block', undefined]]);
    assert.equal(decide(policy, 'SELECT 1', { context: undefined, now: clock.now() }).action, 'allow');
  });

  it('memory stays bounded: least recently used actors are forgotten beyond maxActors', () => {
    const { policy } = setup({ maxActors: 10, perStatement: undefined });
    for (let i = 0; i < 50; i++) policy.bulk.record(`human:u${i}`, ['public.users'], 10);
    assert.equal(policy.bulk.windowRows('human:u0'), 0);
    assert.equal(policy.bulk.windowRows('human:u49'), 10);
  });
});
