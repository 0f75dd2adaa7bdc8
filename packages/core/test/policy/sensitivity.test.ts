/** Sensitive columns: patterns, wildcards, identifier case, SELECT * through a catalog, joins, views, writes. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { definePolicy } from '../../src/policy/index.js';
import { decide, my, pg, ready } from './helpers.js';

before(() => ready);

const policy = definePolicy({
  sensitive: [
    { id: 'user-pii', category: 'pii', columns: ['public.users.email', 'public.users.ssn', 'public.users.name'], tags: ['gdpr'] },
    { id: 'cards', category: 'pci', columns: '*.orders.card_*' },
    { id: 'secrets', category: 'secret', columns: '*.*.password*' },
    { id: 'health', category: 'phi', columns: 'public."Patients"."Diagnosis"' },
    { id: 'bank', category: 'banking', columns: 'billing.*.iban' },
    { id: 'shop-pii', category: 'pii', columns: 'shop.users.email' },
  ],
  views: { 'reporting.customer_contacts': { columns: { contact_email: 'public.users.email' }, from: ['public.users'] } },
});

const cols = (sql: string): string[] =>
  (policy.sensitivityOf(pg(sql)) ?? { matched: [] }).matched.map((m) => `${m.object}.${m.column}:${m.rule_id}`);

describe('sensitive columns', () => {
  it('tags the columns an explicit SELECT reads, with categories and extra tags', () => {
    const d = decide(policy, 'SELECT id, email FROM users WHERE id = $1');
    assert.deepEqual(d.sensitivity, { tags: ['gdpr', 'pii'], matched: [{ object: 'public.users', column: 'email', rule_id: 'user-pii', category: 'pii' }] });
  });

  it('resolves SELECT * through the catalog', () => {
    const d = decide(policy, 'SELECT * FROM users');
    assert.deepEqual(
      d.sensitivity?.matched.map((m) => `${m.column}:${m.category}`),
      ['email:pii', 'name:pii', 'ssn:pii', 'password_hash:secret'],
    );
    assert.deepEqual(d.sensitivity?.tags, ['gdpr', 'pii', 'secret']);
  });

  it('counts t.* and joins: every table of the join is examined', () => {
    const d = decide(policy, 'SELECT o.*, u.id FROM orders o JOIN users u ON u.id = o.user_id');
    assert.deepEqual(
      d.sensitivity?.matched.map((m) => `${m.object}.${m.column}`),
      ['public.orders.card_number'],
    );
    const sub = decide(policy, 'SELECT x.e FROM (SELECT email AS e FROM users) x');
    assert.deepEqual(sub.sensitivity?.matched.map((m) => `${m.object}.${m.column}`), ['public.users.email']);
  });

  it('without a catalog, SELECT * (columns unknown) counts the whole table', () => {
    const d = decide(policy, 'SELECT * FROM users', { catalog: undefined });
    assert.deepEqual(d.sensitivity?.matched.map((m) => `${m.object}.${m.column}:${m.rule_id}`), ['users.*:user-pii', 'users.*:shop-pii']);
    const b = decide(policy, 'SELECT * FROM billing.invoices', { catalog: undefined });
    assert.deepEqual(b.sensitivity?.matched.map((m) => `${m.object}.${m.column}:${m.rule_id}`), ['billing.invoices.*:bank']);
    const strict = definePolicy({ sensitive: [{ category: 'pii', columns: 'public.users.email' }], matchUnresolvedReads: false });
    assert.equal(decide(strict, 'SELECT * FROM users', { catalog: undefined }).sensitivity, undefined);
  });

  it('an unqualified table without a catalog may be in any schema (over-reporting is the safe side)', () => {
    const d = decide(policy, 'SELECT email FROM users', { catalog: undefined });
    assert.deepEqual(d.sensitivity?.matched.map((m) => `${m.object}.${m.column}:${m.rule_id}`), ['users.email:user-pii', 'users.email:shop-pii']);
    assert.equal(decide(policy, 'SELECT email FROM other.users', { catalog: undefined }).sensitivity, undefined);
  });

  it('PostgreSQL case: unquoted patterns match folded and quoted spellings; quoted patterns only the exact one', () => {
    assert.deepEqual(cols('SELECT EMAIL FROM PUBLIC.USERS'), ['public.users.email:user-pii'], 'USERS is folded to users by the analysis');
    assert.deepEqual(cols('SELECT "EMAIL" FROM public."Users"'), ['public.Users.EMAIL:user-pii'], 'unquoted pattern parts compare case-insensitively');
    assert.deepEqual(cols('SELECT "Diagnosis" FROM public."Patients"'), ['public.Patients.Diagnosis:health']);
    assert.deepEqual(cols('SELECT diagnosis FROM public.patients'), [], 'the quoted pattern "Patients"."Diagnosis" needs that exact spelling');
  });

  it('MySQL: names as written, matched case-insensitively', () => {
    const d = decide(policy, 'SELECT Email FROM Users', { dialect: 'mysql' });
    assert.deepEqual(d.sensitivity?.matched.map((m) => `${m.object}.${m.column}`), ['shop.Users.Email']);
    const star = decide(policy, 'SELECT * FROM shop.Users', { dialect: 'mysql' });
    assert.deepEqual(star.sensitivity?.matched.map((m) => m.column), ['Email']);
  });

  it('wildcards: *.orders.card_*, *.*.password*, billing.*.iban', () => {
    assert.deepEqual(cols('SELECT card_number, total FROM orders'), ['public.orders.card_number:cards']);
    assert.deepEqual(cols('SELECT iban FROM billing.invoices'), ['billing.invoices.iban:bank']);
    assert.deepEqual(cols('SELECT password_hash FROM users WHERE id = 1'), ['public.users.password_hash:secrets']);
    assert.deepEqual(cols('SELECT id, total FROM orders'), []);
  });

  it('views: catalog view columns are mapped to their base columns (renamed) and by name (from)', () => {
    const d = decide(policy, 'SELECT * FROM reporting.customer_contacts');
    assert.deepEqual(d.sensitivity?.matched.map((m) => `${m.object}.${m.column}:${m.rule_id}`), [
      'reporting.customer_contacts.contact_email:user-pii',
      'reporting.customer_contacts.name:user-pii',
    ]);
  });

  it('writes and RETURNING are tagged too; parameters of a sensitive statement are all protected', () => {
    const d = decide(policy, 'UPDATE users SET email = $1 WHERE id = $2', { paramCount: 2 });
    assert.deepEqual(d.sensitivity?.matched.map((m) => m.column), ['email']);
    assert.deepEqual(d.sensitiveParamIndexes, [0, 1]);
    const ins = decide(policy, 'INSERT INTO users (id, ssn) VALUES ($1, $2) RETURNING email', { paramCount: 2 });
    assert.deepEqual(ins.sensitivity?.matched.map((m) => m.column).sort(), ['email', 'ssn']);
    const plain = decide(policy, 'SELECT total FROM orders WHERE id = $1', { paramCount: 1 });
    assert.equal(plain.sensitiveParamIndexes, undefined);
    assert.equal(plain.sensitivity, undefined);
  });

  it('the sensitivity of an analysis is computed once and shared (frozen)', () => {
    const a = pg('SELECT email FROM users');
    const s1 = policy.sensitivityOf(a);
    const s2 = policy.sensitivityOf(a);
    assert.equal(s1, s2);
    assert.ok(Object.isFrozen(s1) && Object.isFrozen(s1?.matched));
    assert.equal(policy.sensitivityOf(my('SELECT id FROM orders')), undefined);
  });
});
