/** Fingerprint and db.query.summary. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { analyze, loadAnalyzers } from '../../src/analysis/index.js';

before(async () => {
  await loadAnalyzers();
});

const fp = (sql: string, d: 'postgres' | 'mysql' = 'postgres'): string => analyze(sql, { dialect: d }).fingerprint;
const sum = (sql: string, d: 'postgres' | 'mysql' = 'postgres'): string => analyze(sql, { dialect: d }).summary;

describe('fingerprint', () => {
  it('removes literals and parameters, keeps schema', () => {
    assert.equal(fp("SELECT id FROM public.users WHERE email = 'a@b' AND id = 42"), 'SELECT id FROM public.users WHERE email = ? AND id = ?');
    assert.equal(fp("select id from public.users where email = $1 and id = 7"), fp("SELECT id FROM public.users WHERE email = 'x' AND id = $2"));
  });
  it('collapses IN lists and multi-row VALUES', () => {
    assert.equal(fp('SELECT 1 FROM t WHERE id IN (1, 2, 3)'), fp('SELECT 1 FROM t WHERE id IN ($1)'));
    assert.equal(fp('INSERT INTO t (a, b) VALUES (1, 2), (3, 4), (5, 6)'), 'INSERT INTO t (a, b) VALUES (?, ?)');
    assert.equal(fp('SELECT * FROM t WHERE id IN (?, ?, ?)', 'mysql'), 'SELECT * FROM t WHERE id IN (?)');
  });
  it('strips comments but keeps executable-comment code', () => {
    assert.equal(fp('SELECT /* hi */ 1 -- x'), 'SELECT ?');
    assert.equal(fp('SELECT 1 /*!50000 , 2 */', 'mysql'), 'SELECT ?, ?');
  });
  it('keeps quoted identifiers distinct', () => {
    assert.notEqual(fp('SELECT "User".id FROM "User"'), fp('SELECT user.id FROM "user"'));
  });
});

describe('summary', () => {
  it('follows db.query.summary', () => {
    assert.equal(sum('SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = $1'), 'SELECT users JOIN orders');
    assert.equal(sum('INSERT INTO audit_log (a) SELECT email FROM users'), 'INSERT audit_log SELECT users');
    assert.equal(sum('UPDATE orders SET a = 1 WHERE id = 1'), 'UPDATE orders');
    assert.equal(sum('DELETE FROM sessions WHERE id = 1'), 'DELETE sessions');
    assert.equal(sum('DROP TABLE IF EXISTS x'), 'DROP TABLE x');
    assert.equal(sum('SELECT 1; TRUNCATE TABLE a, b'), 'SELECT; TRUNCATE a b');
    assert.equal(sum('SELECT id FROM t FOR UPDATE SKIP LOCKED'), 'SELECT t');
    assert.equal(sum('BEGIN'), 'BEGIN');
  });
  it('is at most 255 characters', () => {
    const sql = Array.from({ length: 60 }, (_, i) => `SELECT * FROM table_number_${i}`).join('; ');
    assert.ok(sum(sql).length <= 255);
  });
});
