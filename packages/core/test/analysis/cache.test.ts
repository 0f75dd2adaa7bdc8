/** The exact-text LRU cache and its limits. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createAnalyzer, createCatalog, loadAnalyzers } from '../../src/analysis/index.js';

before(async () => {
  await loadAnalyzers();
});

describe('createAnalyzer', () => {
  it('returns the same frozen result for the same text and settings', () => {
    const an = createAnalyzer({ cacheSize: 10 });
    const a1 = an.analyze('SELECT 1', { dialect: 'postgres' });
    const a2 = an.analyze('SELECT 1', { dialect: 'postgres' });
    assert.equal(a1, a2);
    assert.ok(Object.isFrozen(a1));
    assert.equal(an.stats.hits, 1);
    assert.notEqual(an.analyze('SELECT 1', { dialect: 'mysql' }), a1, 'dialect is part of the key');
  });
  it('keys by catalog version so a refreshed catalog is not served stale objects', () => {
    const an = createAnalyzer();
    const c1 = createCatalog('postgres', { public: { t: ['a'] } });
    const c2 = createCatalog('postgres', { public: { t: ['a', 'b'] } });
    assert.deepEqual(an.analyze('SELECT * FROM t', { dialect: 'postgres', catalog: c1 }).objects[0]?.columns, ['a']);
    assert.deepEqual(an.analyze('SELECT * FROM t', { dialect: 'postgres', catalog: c2 }).objects[0]?.columns, ['a', 'b']);
  });
  it('keys by string-lexing settings', () => {
    const an = createAnalyzer();
    const sql = "SELECT '\\'; DROP TABLE x; -- '";
    assert.equal(an.analyze(sql, { dialect: 'mysql', backslashEscapes: true }).destructive, false);
    assert.equal(an.analyze(sql, { dialect: 'mysql', backslashEscapes: false }).destructive, true);
    // Setting unknown: both readings, the more severe one wins.
    assert.equal(an.analyze(sql, { dialect: 'mysql' }).destructive, true);
  });
  it('is bounded by cacheSize', () => {
    const an = createAnalyzer({ cacheSize: 5 });
    for (let i = 0; i < 50; i++) an.analyze(`SELECT ${i}`, { dialect: 'postgres' });
    assert.equal(an.stats.size, 5);
    an.clear();
    assert.equal(an.stats.size, 0);
  });
  it('does not parse texts over maxLength', () => {
    const an = createAnalyzer({ maxLength: 20 });
    const r = an.analyze('SELECT id, email, name FROM users', { dialect: 'postgres' });
    assert.equal(r.kind, 'unknown');
    assert.match(r.reasons[0] ?? '', /longer than 20/);
    assert.equal(an.analyze('SELECT 1', { dialect: 'postgres' }).kind, 'read');
  });
  it('a repeated text is served from the cache (its cost is measured in npm run bench, not here)', () => {
    const an = createAnalyzer();
    const sql = `SELECT "u"."id", "u"."email" FROM "public"."users" AS "u" WHERE "u"."id" = $1 ${'AND 1 = 1 '.repeat(50)}`;
    const opts = { dialect: 'postgres' as const };
    const first = an.analyze(sql, opts);
    const misses = an.stats.misses;
    for (let i = 0; i < 100; i++) assert.equal(an.analyze(sql, opts), first);
    assert.equal(an.stats.misses, misses);
    assert.ok(an.stats.hits >= 100);
  });
});
