/** Decisions: destructive outside windows, approvals, break-glass, scoping, unknown statements, monitor mode, precedence. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { AuditContext } from '../../src/context/types.js';
import { QueryBlockedError } from '../../src/errors.js';
import { blockedError, definePolicy } from '../../src/policy/index.js';
import { alice, at, bob, decide, MY_DB, pg, ready } from './helpers.js';

before(() => ready);

const WINDOWS = [
  { id: 'sat-night', days: ['sat' as const], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' },
  { id: 'release-42', from: '2026-04-01T20:00:00Z', to: '2026-04-01T23:00:00Z' },
];
const NOON = at('2026-04-01T12:00:00Z'); // a Wednesday, outside both windows
const policy = definePolicy({ windows: WINDOWS });

const withApproval = (ctx: AuditContext, approval: Record<string, unknown>): AuditContext => ({ ...ctx, approval: approval as NonNullable<AuditContext['approval']> });
const inOneHour = new Date(NOON + 3_600_000).toISOString();

describe('destructive statements and change windows', () => {
  it('blocks a destructive statement outside every window, with rule id and reason', () => {
    const d = decide(policy, 'DELETE FROM orders', { now: NOON });
    assert.equal(d.action, 'block');
    assert.deepEqual(d.decision, {
      decision: 'block',
      mode: 'enforce',
      rule_id: 'destructive',
      reason: 'destructive statement (DELETE without WHERE) outside change windows (sat-night, release-42)',
    });
    assert.deepEqual(d.alerts.map((a) => a.kind), ['block']);
    const err = blockedError(d);
    assert.ok(err instanceof QueryBlockedError);
    assert.equal(err.code, 'QT_ERR_POLICY_BLOCKED');
    assert.equal(err.ruleId, 'destructive');
    assert.match(err.message, /DELETE without WHERE/);
  });

  it('lets non-destructive statements through, with nothing to report', () => {
    const d = decide(policy, 'DELETE FROM orders WHERE id = $1', { now: NOON });
    assert.deepEqual(d, { action: 'allow', decision: { decision: 'allow', mode: 'enforce' }, alerts: [], actorKey: 'human:alice' });
  });

  it('allows inside a recurring window and records the occurrence', () => {
    const d = decide(policy, 'DROP TABLE orders', { now: at('2026-04-04T21:00:00Z') }); // Sat 23:00 CEST
    assert.equal(d.action, 'allow');
    assert.deepEqual(d.decision, {
      decision: 'allow',
      mode: 'enforce',
      rule_id: 'destructive',
      reason: 'inside change window sat-night',
      window: { id: 'sat-night', start: '2026-04-04T20:00:00.000Z', end: '2026-04-05T04:00:00.000Z' },
    });
  });

  it('allows inside a one-off window, and not a millisecond after it', () => {
    assert.equal(decide(policy, 'TRUNCATE orders', { now: at('2026-04-01T22:59:59.999Z') }).action, 'allow');
    assert.equal(decide(policy, 'TRUNCATE orders', { now: at('2026-04-01T23:00:00Z') }).action, 'block');
  });

  it('a destructive rule can name its windows; an explicit empty list means "never"', () => {
    const p = definePolicy({ windows: WINDOWS, destructive: { windows: ['release-42'] } });
    assert.equal(decide(p, 'DROP TABLE orders', { now: at('2026-04-04T21:00:00Z') }).action, 'block');
    assert.equal(decide(p, 'DROP TABLE orders', { now: at('2026-04-01T21:00:00Z') }).action, 'allow');
    const never = definePolicy({ windows: WINDOWS, destructive: { windows: [] } });
    assert.equal(decide(never, 'DROP TABLE orders', { now: at('2026-04-01T21:00:00Z') }).action, 'block');
  });
});

describe('approvals', () => {
  const approval = { ticket: 'CHG-1', actor: 'alice', approver: 'carol', expires: inOneHour };

  it('a valid ticket lets a destructive statement through, and is recorded', () => {
    const d = decide(policy, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, approval) });
    assert.equal(d.action, 'allow');
    assert.deepEqual(d.decision, {
      decision: 'allow',
      mode: 'enforce',
      rule_id: 'destructive',
      reason: 'approved by ticket CHG-1',
      approval: { ticket: 'CHG-1', approver: 'carol', expires: '2026-04-01T13:00:00.000Z' },
    });
  });

  it('an expired ticket does not (expiry is exclusive)', () => {
    const d = decide(policy, 'DROP TABLE orders', { now: at('2026-04-01T13:00:00Z'), context: withApproval(alice, approval) });
    assert.equal(d.action, 'block');
    assert.match(d.decision.reason!, /; approval CHG-1 expired at 2026-04-01T13:00:00.000Z$/);
  });

  it('a ticket for another actor does not', () => {
    const d = decide(policy, 'DROP TABLE orders', { now: NOON, context: withApproval(bob, approval) });
    assert.equal(d.action, 'block');
    assert.match(d.decision.reason!, /approval CHG-1 is for alice, not bob/);
  });

  it('dual control: self-approval, a missing approver, a missing actor or expiry are refused', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...approval, approver: 'alice' }, /approved by its own actor \(dual control\)/],
      [{ ...approval, approver: ' ALICE' }, /approved by its own actor \(dual control\)/],
      [{ ...approval, approver: 'ａｌｉｃｅ' }, /approved by its own actor \(dual control\)/],
      [{ ticket: 'CHG-1', actor: 'alice', expires: inOneHour }, /has no approver \(dual control\)/],
      [{ ticket: 'CHG-1', approver: 'carol', expires: inOneHour }, /names no actor/],
      [{ ticket: 'CHG-1', actor: 'alice', approver: 'carol' }, /has no expiry/],
      [{ ...approval, expires: '2026-04-01 13:00' }, /invalid expiry/],
    ];
    for (const [a, re] of cases) {
      const d = decide(policy, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, a) });
      assert.equal(d.action, 'block', String(re));
      assert.match(d.decision.reason!, re);
    }
    const imp: AuditContext = { actor: { type: 'human', id: 'alice', impersonator: { id: 'carol' } } };
    assert.match(decide(policy, 'DROP TABLE orders', { now: NOON, context: withApproval(imp, approval) }).decision.reason!, /its own actor/);
  });

  it('without dual control, an approver is not required', () => {
    const p = definePolicy({ approvals: { dualControl: false } });
    const d = decide(p, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, { ticket: 'T', actor: 'alice', expires: new Date(NOON + 1000) }) });
    assert.equal(d.action, 'allow');
    assert.deepEqual(d.decision.approval, { ticket: 'T', expires: '2026-04-01T12:00:01.000Z' });
  });

  it('a ticket registry (static or resolve) is the authority: the context only names the ticket', () => {
    const p = definePolicy({
      approvals: {
        tickets: [{ ticket: 'CHG-7', actor: 'alice', approver: 'dave', expires: '2026-04-02T00:00:00+02:00' }],
        resolve: (t) => (t === 'CHG-8' ? { ticket: t, actor: 'bob', approver: 'erin', expires: new Date(NOON + 60_000) } : undefined),
        approvers: ['dave', 'erin'],
      },
    });
    assert.equal(decide(p, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, { ticket: 'CHG-7', approver: 'mallory', expires: '2099-01-01T00:00:00Z' }) }).action, 'allow');
    assert.equal(decide(p, 'DROP TABLE orders', { now: NOON, context: withApproval(bob, { ticket: 'CHG-8' }) }).action, 'allow');
    assert.match(decide(p, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, { ticket: 'CHG-8' }) }).decision.reason!, /is for bob, not alice/);
    assert.match(decide(p, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, { ticket: 'CHG-9', actor: 'alice', approver: 'dave', expires: inOneHour }) }).decision.reason!, /CHG-9: unknown ticket/);
    const limited = definePolicy({ approvals: { approvers: ['dave'] } });
    assert.match(decide(limited, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, approval) }).decision.reason!, /carol may not approve/);
  });

  it('a resolve hook that throws refuses the approval, never the decision', () => {
    const p = definePolicy({ approvals: { resolve: () => { throw new Error('ticket system down'); } } });
    const d = decide(p, 'DROP TABLE orders', { now: NOON, context: withApproval(alice, { ticket: 'X' }) });
    assert.equal(d.action, 'block');
    assert.match(d.decision.reason!, /X: unknown ticket/);
  });
});

describe('break-glass', () => {
  const glass: AuditContext = { ...alice, breakGlass: { reason: 'INC-99: orders table corrupt' } };

  it('lets the statement through as allow_override, with the override and a critical alert', () => {
    const d = decide(policy, 'DROP TABLE orders', { now: NOON, context: glass });
    assert.equal(d.action, 'alert');
    assert.deepEqual(d.decision, { decision: 'allow_override', mode: 'enforce', rule_id: 'destructive', reason: 'break-glass: INC-99: orders table corrupt' });
    assert.deepEqual(d.override, { reason: 'INC-99: orders table corrupt', rule_id: 'destructive' });
    assert.deepEqual(d.alerts.map((a) => [a.kind, a.severity, a.actor_key]), [['override', 'critical', 'human:alice']]);
  });

  it('is not used when a window or an approval already allows', () => {
    const d = decide(policy, 'DROP TABLE orders', { now: at('2026-04-01T21:00:00Z'), context: glass });
    assert.equal(d.action, 'allow');
    assert.equal(d.override, undefined);
  });

  it('needs a reason and an actor, and may be limited to roles; it can be switched off per rule or globally', () => {
    const noReason = decide(policy, 'DROP TABLE orders', { now: NOON, context: { ...alice, breakGlass: { reason: '  ' } } });
    assert.match(noReason.decision.reason!, /break-glass refused: no reason given/);
    const anon = decide(policy, 'DROP TABLE orders', { now: NOON, context: { breakGlass: { reason: 'x' } } });
    assert.match(anon.decision.reason!, /break-glass refused: no actor/);
    const roles = definePolicy({ breakGlass: { roles: ['sre'] } });
    assert.match(decide(roles, 'DROP TABLE orders', { now: NOON, context: glass }).decision.reason!, /alice has none of the roles allowed/);
    assert.equal(decide(roles, 'DROP TABLE orders', { now: NOON, context: { ...glass, actor: { type: 'human', id: 'sam', roles: ['sre'] } } }).action, 'alert');
    assert.equal(decide(definePolicy({ breakGlass: { allowed: false } }), 'DROP TABLE orders', { now: NOON, context: glass }).action, 'block');
    assert.equal(decide(definePolicy({ destructive: { breakGlass: false } }), 'DROP TABLE orders', { now: NOON, context: glass }).action, 'block');
  });
});

describe('scoping', () => {
  it('by environment: the destructive rule only in prod', () => {
    const p = definePolicy({ destructive: { scope: { env: 'prod' } } });
    assert.equal(decide(p, 'DROP TABLE orders', { env: 'prod' }).action, 'block');
    assert.equal(decide(p, 'DROP TABLE orders', { env: 'staging' }).action, 'allow');
    assert.equal(decide(p, 'DROP TABLE orders').action, 'allow', 'no env: a scoped rule does not apply');
  });

  it('by database (db.namespace), with wildcards', () => {
    const p = definePolicy({ destructive: { scope: { database: ['app', 'billing_*'] } } });
    assert.equal(decide(p, 'DROP TABLE orders').action, 'block');
    assert.equal(decide(p, 'DROP TABLE orders', { db: { system: 'postgresql', driver: 'pg', namespace: 'billing_eu' } }).action, 'block');
    assert.equal(decide(p, 'DROP TABLE orders', { db: { system: 'postgresql', driver: 'pg', namespace: 'scratch' } }).action, 'allow');
    assert.equal(decide(p, 'DROP TABLE orders', { dialect: 'mysql', db: MY_DB }).action, 'allow');
  });

  it('by schema and table: the statement touches a matching object', () => {
    const p = definePolicy({ rules: [{ id: 'no-billing-writes', match: { kinds: 'write' }, scope: { schema: 'billing' }, action: 'block', reason: 'billing is read-only' }] });
    assert.equal(decide(p, 'UPDATE billing.invoices SET amount = 0 WHERE id = 1').decision.reason, 'billing is read-only');
    assert.equal(decide(p, 'UPDATE orders SET total = 0 WHERE id = 1').action, 'allow');
    const t = definePolicy({ rules: [{ id: 'orders-ddl', match: { kinds: ['ddl'] }, scope: { table: ['public.orders', 'invoices'] }, action: 'block' }], destructive: { action: 'alert' } });
    assert.equal(decide(t, 'ALTER TABLE orders ADD COLUMN x int').decision.rule_id, 'orders-ddl');
    assert.equal(decide(t, 'CREATE INDEX ON billing.invoices (amount)').decision.rule_id, 'orders-ddl');
    assert.equal(decide(t, 'ALTER TABLE users ADD COLUMN x int').action, 'alert', 'only the destructive alert');
  });

  it('by actor role and by source; a statement without a source counts as app', () => {
    const p = definePolicy({
      rules: [
        { id: 'dev-no-ddl', match: { kinds: 'ddl' }, scope: { role: 'developer' }, action: 'block' },
        { id: 'workstation-pii', match: { sensitive: true }, scope: { source: 'workstation' }, action: 'alert', severity: 'high' },
        { id: 'app-dcl', match: { kinds: 'dcl' }, scope: { source: 'app' }, action: 'block' },
      ],
      sensitive: [{ category: 'pii', columns: 'public.users.email' }],
      destructive: { action: 'alert' },
    });
    assert.equal(decide(p, 'CREATE TABLE t (id int)', { context: bob }).decision.rule_id, 'dev-no-ddl');
    assert.equal(decide(p, 'CREATE TABLE t (id int)', { context: alice }).action, 'allow');
    const ws = decide(p, 'SELECT email FROM users', { context: alice });
    assert.equal(ws.action, 'alert');
    assert.deepEqual(ws.alerts.map((a) => [a.kind, a.rule_id, a.severity]), [['sensitive_read', 'workstation-pii', 'high']]);
    assert.equal(decide(p, 'SELECT email FROM users', { context: bob }).action, 'allow');
    assert.equal(decide(p, 'GRANT SELECT ON users TO x', { context: undefined }).decision.rule_id, 'app-dcl');
    assert.equal(decide(p, 'GRANT SELECT ON users TO x', { context: { ...alice, source: 'migration' } }).decision.rule_id, 'destructive');
  });

  it('except exempts: migrations may run destructive statements in staging', () => {
    const p = definePolicy({ destructive: { except: { source: 'migration', env: ['staging', 'dev'] } } });
    const mig: AuditContext = { ...alice, source: 'migration' };
    assert.equal(decide(p, 'DROP TABLE orders', { context: mig, env: 'staging' }).action, 'allow');
    assert.equal(decide(p, 'DROP TABLE orders', { context: mig, env: 'prod' }).action, 'block');
    assert.equal(decide(p, 'DROP TABLE orders', { context: alice, env: 'staging' }).action, 'block');
    const tbl = definePolicy({ destructive: { except: { table: 'scratch.*' } } });
    assert.equal(decide(tbl, 'DROP TABLE scratch.tmp1').action, 'allow');
    assert.equal(decide(tbl, 'DROP TABLE scratch.tmp1, public.orders').action, 'block', 'every object must be exempt');
    assert.equal(decide(tbl, 'DROP TABLE tmp1', { catalog: undefined }).action, 'block', 'unknown schema: not exempt');
  });

  it('by actor id (glob)', () => {
    const p = definePolicy({ rules: [{ id: 'bots-read-only', match: { kinds: ['write', 'ddl'] }, scope: { actor: 'bot-*' }, action: 'block' }] });
    assert.equal(decide(p, 'UPDATE orders SET total = 1 WHERE id = 2', { context: { actor: { type: 'bot', id: 'bot-etl' } } }).action, 'block');
    assert.equal(decide(p, 'UPDATE orders SET total = 1 WHERE id = 2', { context: bob }).action, 'allow');
  });
});

describe('unknown statements', () => {
  it('are blocked when enforcing', () => {
    const d = decide(policy, 'SELEC * FROM users');
    assert.equal(d.action, 'block');
    assert.equal(d.decision.rule_id, 'unknown');
    assert.match(d.decision.reason!, /could not be analysed \(syntax error at or near "SELEC"\)/);
  });
  it('are alerted (would block) when monitoring', () => {
    const d = decide(definePolicy({ mode: 'monitor' }), 'SELEC * FROM users');
    assert.equal(d.action, 'alert');
    assert.equal(d.wouldBlock, true);
    assert.deepEqual(d.decision, { decision: 'block', mode: 'monitor', rule_id: 'unknown', reason: d.decision.reason });
    assert.deepEqual(d.alerts.map((a) => [a.kind, a.mode]), [['would_block', 'monitor']]);
  });
  it('can be set to alert while enforcing (never silently allowed)', () => {
    const d = decide(definePolicy({ unknown: { action: 'alert' } }), 'SELEC * FROM users');
    assert.equal(d.action, 'alert');
    assert.equal(d.decision.decision, 'alert');
  });
});

describe('modes and precedence', () => {
  it('monitor records "would block" without blocking', () => {
    const p = definePolicy({ mode: 'monitor', windows: WINDOWS });
    const d = decide(p, 'DELETE FROM orders', { now: NOON });
    assert.equal(d.action, 'alert');
    assert.equal(d.wouldBlock, true);
    assert.equal(d.decision.decision, 'block');
    assert.equal(d.decision.mode, 'monitor');
    assert.equal(decide(p, 'DELETE FROM orders', { now: at('2026-04-01T21:00:00Z') }).action, 'allow', 'inside a window: not even would-block');
  });

  it('a rule can monitor while the policy enforces (and vice versa)', () => {
    const p = definePolicy({ rules: [{ id: 'new-rule', match: { kinds: 'admin' }, action: 'block', mode: 'monitor' }] });
    const d = decide(p, 'VACUUM orders');
    assert.equal(d.action, 'alert');
    assert.deepEqual([d.decision.decision, d.decision.mode, d.decision.rule_id], ['block', 'monitor', 'new-rule']);
    const q = definePolicy({ mode: 'monitor', destructive: { mode: 'enforce' } });
    assert.equal(decide(q, 'DROP TABLE orders').action, 'block');
  });

  it('deny overrides: any enforced block wins over alerts, would-blocks and windows; the first block in order is reported', () => {
    const p = definePolicy({
      windows: WINDOWS,
      sensitive: [{ category: 'pii', columns: 'public.users.email' }],
      rules: [
        { id: 'pii-alert', match: { sensitive: ['pii'] }, action: 'alert' },
        { id: 'watch-updates', match: { commands: 'UPDATE' }, action: 'block', mode: 'monitor' },
        { id: 'users-frozen', match: { kinds: 'write' }, scope: { table: 'users' }, action: 'block', reason: 'users is frozen' },
      ],
    });
    const d = decide(p, 'UPDATE users SET email = $1', { now: at('2026-04-01T21:00:00Z') }); // destructive, in a window
    assert.equal(d.action, 'block');
    assert.equal(d.decision.rule_id, 'users-frozen');
    assert.deepEqual(d.alerts.map((a) => `${a.kind}:${a.rule_id}`), ['sensitive_read:pii-alert', 'would_block:watch-updates', 'block:users-frozen']);
    assert.deepEqual(d.sensitivity?.tags, ['pii']);
  });

  it('decide() never throws: a broken input fails closed when enforcing', () => {
    const d = policy.decide({ analysis: null as never, context: undefined, db: { system: 'postgresql', driver: 'pg' }, service: {}, now: NOON });
    assert.equal(d.action, 'block');
    assert.equal(d.decision.rule_id, 'policy.error');
    const m = definePolicy({ mode: 'monitor' }).decide({ analysis: null as never, context: undefined, db: { system: 'postgresql', driver: 'pg' }, service: {}, now: NOON });
    assert.equal(m.action, 'alert');
  });

  it('commands match with wildcards, case-insensitively', () => {
    const p = definePolicy({ rules: [{ id: 'no-drop', match: { commands: 'drop *' }, action: 'block' }], destructive: { action: 'alert' } });
    assert.equal(decide(p, 'DROP INDEX i').decision.rule_id, 'no-drop');
    assert.equal(decide(p, 'TRUNCATE orders').decision.rule_id, 'destructive');
    assert.equal(pg('DROP INDEX i').commands[0], 'DROP INDEX');
  });
});
