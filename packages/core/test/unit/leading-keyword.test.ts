import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyByLeadingKeyword } from '../../src/capture/leading-keyword.js';

test('the provisional classifier never calls what it cannot vouch for a read', () => {
  assert.deepEqual(classifyByLeadingKeyword('SELECT 1'), { class: 'read', command: 'SELECT' });
  assert.deepEqual(classifyByLeadingKeyword('  /* hi */ -- x\n delete from t'), { class: 'write', command: 'DELETE' });
  assert.equal(classifyByLeadingKeyword('SELECT 1; DROP TABLE users').class, 'unknown');
  assert.equal(classifyByLeadingKeyword('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d').class, 'unknown');
  assert.equal(classifyByLeadingKeyword('/*!50000 DROP TABLE t */').class, 'unknown');
  assert.equal(classifyByLeadingKeyword('').class, 'unknown');
  assert.equal(classifyByLeadingKeyword(undefined).class, 'unknown');
  assert.equal(classifyByLeadingKeyword('DROP TABLE t').class, 'ddl');
  assert.equal(classifyByLeadingKeyword('SELECT 1;').class, 'read');
});
