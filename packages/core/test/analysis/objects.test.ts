/** Tables and columns: aliases, joins, subqueries, CTEs, UNION, RETURNING, `*` expansion, identifier case. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Analysis, analyze, createCatalog, type Dialect, loadAnalyzers } from '../../src/analysis/index.js';
import { MY_CATALOG, PG_CATALOG } from './fixtures.js';

before(async () => {
  await loadAnalyzers();
});

function cols(r: Analysis, access?: string): string[] {
  return r.objects.filter((o) => access === undefined || o.access === access).flatMap((o) => o.columns.map((c) => `${o.name}.${c}`)).sort();
}

function pg(sql: string): Analysis {
  return analyze(sql, { dialect: 'postgres', catalog: PG_CATALOG });
}
function my(sql: string, d: Dialect = 'mysql'): Analysis {
  return analyze(sql, { dialect: d, catalog: MY_CATALOG });
}

describe('objects', () => {
  it('resolves aliases and joins', () => {
    const r = pg('SELECT u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id');
    assert.deepEqual(cols(r), ['orders.total', 'orders.user_id', 'users.email', 'users.id']);
    assert.equal(r.objects[0]?.schema, 'public', 'schema filled in from the catalog');
  });
  it('attributes unqualified columns through the catalog', () => {
    const r = pg('SELECT email, total FROM users u JOIN orders o ON o.user_id = u.id');
    assert.ok(cols(r).includes('users.email') && cols(r).includes('orders.total'));
  });
  it('follows subqueries, correlated subqueries and CTEs', () => {
    const r = pg('WITH big AS (SELECT user_id FROM orders WHERE total > 10) SELECT u.ssn FROM users u WHERE u.id IN (SELECT user_id FROM big) AND EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id)');
    assert.deepEqual(cols(r), ['orders.total', 'orders.user_id', 'sessions.user_id', 'users.id', 'users.ssn']);
  });
  it('expands * and t.* from the catalog, through derived tables', () => {
    assert.deepEqual(cols(pg('SELECT p.* FROM products p')), ['products.id', 'products.name', 'products.price', 'products.sku']);
    assert.deepEqual(cols(pg('SELECT * FROM (SELECT * FROM products) x')), ['products.id', 'products.name', 'products.price', 'products.sku']);
    assert.deepEqual(cols(my('SELECT x.* FROM (SELECT id, sku FROM products) x')), ['products.id', 'products.sku']);
  });
  it('covers UNION branches', () => {
    assert.deepEqual(cols(pg('SELECT id FROM users UNION SELECT sku FROM products')), ['products.sku', 'users.id']);
  });
  it('separates written and read columns, including RETURNING', () => {
    const r = pg('UPDATE users SET email = lower(email) WHERE id = $1 RETURNING ssn');
    assert.deepEqual(cols(r, 'write'), ['users.email']);
    assert.deepEqual(cols(r, 'read'), ['users.email', 'users.id', 'users.ssn']);
    const ins = pg('INSERT INTO products VALUES (1, $1, 2, $2)');
    assert.deepEqual(cols(ins, 'write'), ['products.id', 'products.name', 'products.price', 'products.sku']);
    const del = pg('DELETE FROM users WHERE id = 1 RETURNING *');
    assert.equal(cols(del, 'read').length, 7);
  });
  it('MySQL multi-table DELETE and UPDATE targets', () => {
    const r = my('DELETE o FROM orders o JOIN users u ON o.user_id = u.id WHERE u.email = ?');
    assert.deepEqual(r.objects.filter((o) => o.access === 'write').map((o) => o.name), ['orders']);
    const u = my('UPDATE users u JOIN orders o ON o.user_id = u.id SET o.status = ? WHERE u.id = ?');
    assert.ok(cols(u, 'write').includes('orders.status'));
  });
  it('follows PostgreSQL identifier case', () => {
    const r = pg('SELECT "User".id, "User"."createdAt" FROM "User"');
    assert.deepEqual(cols(r), ['User.createdAt', 'User.id']);
    // Unquoted names fold to lower case: USERS is users; "Users" is another table (unknown here).
    assert.deepEqual(pg('SELECT ID FROM USERS').objects.map((o) => o.name), ['users']);
    assert.deepEqual(pg('SELECT * FROM "USERS"').objects.map((o) => [o.name, o.columns.length]), [['USERS', 0]]);
  });
  it('follows MySQL identifier case (columns case-insensitive, catalog spelling reported)', () => {
    const r = my('SELECT `ID`, Email FROM `shop`.`users`');
    assert.deepEqual(cols(r), ['users.email', 'users.id']);
  });
  it('reports DDL objects', () => {
    assert.deepEqual(pg('DROP TABLE a, s.b').objects.map((o) => [o.schema ?? '', o.name, o.access]), [['', 'a', 'ddl'], ['s', 'b', 'ddl']]);
    assert.deepEqual(my('RENAME TABLE users TO users_old').objects.map((o) => o.name), ['users', 'users_old']);
    assert.deepEqual(pg('ALTER TABLE users DROP COLUMN ssn').objects[0]?.columns, ['ssn']);
  });
  it('reports something useful without a catalog', () => {
    const r = analyze('SELECT a, b FROM t1 JOIN t2 ON t1.id = t2.t1_id', { dialect: 'postgres' });
    // Unqualified a and b could belong to either table: both candidates are reported.
    assert.ok(cols(r).includes('t1.a') && cols(r).includes('t2.a'));
  });
  it('uses the search path for unqualified names', () => {
    const cat = createCatalog('postgres', { app: { users: ['id', 'x'] }, public: { users: ['id', 'y'] } }, { searchPath: ['app', 'public'] });
    const r = analyze('SELECT * FROM users', { dialect: 'postgres', catalog: cat });
    assert.equal(r.objects[0]?.schema, 'app');
    assert.deepEqual(r.objects[0]?.columns, ['id', 'x']);
  });
});
