/** Before loadAnalyzers() resolves, analyze answers unknown ('parser not loaded'), never a guess. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { analyze, createAnalyzer, loadAnalyzers } from '../../src/analysis/index.js';

it('is unknown until the parsers are loaded, and is not cached as such', async () => {
  const an = createAnalyzer();
  const before = an.analyze('DROP TABLE x', { dialect: 'postgres' });
  assert.equal(before.kind, 'unknown');
  assert.ok(before.reasons.includes('parser not loaded'));
  assert.equal(before.destructive, true, 'the lexical guard still reports what it found');
  assert.equal(analyze('SELECT 1', { dialect: 'mysql' }).kind, 'unknown');
  await Promise.all([loadAnalyzers(), loadAnalyzers()]);
  assert.equal(an.analyze('DROP TABLE x', { dialect: 'postgres' }).kind, 'ddl');
  assert.equal(analyze('SELECT 1', { dialect: 'mysql' }).kind, 'read');
});
