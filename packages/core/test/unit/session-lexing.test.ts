import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, loadAnalyzers } from '@querytrail/core';
import { mayChangeLexing, SessionLexing } from '../../src/auditor/session-lexing.js';

await loadAnalyzers();

test('unknown session: no options (both readings); reported settings become analyzer options', () => {
  const s = new SessionLexing();
  const conn = {};
  assert.deepEqual(s.options(conn), {});
  assert.deepEqual(s.options(undefined), {});
  s.report(conn, 'standard_conforming_strings', true);
  assert.deepEqual(s.options(conn), { standardConformingStrings: true });
  s.report(conn, 'no_backslash_escapes', true);
  assert.deepEqual(s.options(conn), { standardConformingStrings: true, backslashEscapes: false });
  assert.equal(s.options(conn), s.options(conn), 'the same options object while nothing changes');
});

test('a statement that may change lexing makes the setting unknown until it completes', () => {
  const s = new SessionLexing();
  const conn = {};
  s.report(conn, 'standard_conforming_strings', true);
  s.changing(conn);
  s.changing(conn);
  assert.deepEqual(s.options(conn), {}, 'pipelined statements behind a SET are analysed both ways');
  s.report(conn, 'standard_conforming_strings', false); // the server's ParameterStatus
  assert.deepEqual(s.options(conn), {}, 'still one changer in flight');
  s.changed(conn, true);
  assert.deepEqual(s.options(conn), {});
  s.changed(conn, true);
  assert.deepEqual(s.options(conn), { standardConformingStrings: false });
});

test('a changer whose result carried no status leaves the setting unknown until the next report', () => {
  const s = new SessionLexing();
  const conn = {};
  s.report(conn, 'no_backslash_escapes', false);
  s.changing(conn);
  s.changed(conn, false);
  assert.deepEqual(s.options(conn), {});
  s.report(conn, 'no_backslash_escapes', true);
  assert.deepEqual(s.options(conn), { backslashEscapes: false });
});

test('which statements may change lexing', () => {
  const pg = (sql: string) => mayChangeLexing(analyze(sql, { dialect: 'postgres' }));
  assert.equal(pg('SELECT id FROM users WHERE id = $1'), false);
  assert.equal(pg('INSERT INTO t (a) VALUES ($1)'), false);
  assert.equal(pg('BEGIN'), false);
  assert.equal(pg('SET standard_conforming_strings = off'), true);
  assert.equal(pg('RESET ALL'), true);
  assert.equal(pg("SELECT set_config('standard_conforming_strings', 'off', false)"), true);
  assert.equal(pg('ROLLBACK'), true, 'a rollback undoes SET LOCAL / set_config in the transaction');
  assert.equal(pg('CALL p()'), true);
  const my = (sql: string) => mayChangeLexing(analyze(sql, { dialect: 'mysql' }));
  assert.equal(my("SET sql_mode = 'NO_BACKSLASH_ESCAPES'"), true);
  assert.equal(my('SELECT 1'), false);
});
