import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, loadAnalyzers } from '@querytrail/core';
import { mayChangeLexing, SessionLexing, UNKNOWN_LEXING } from '../../src/auditor/session-lexing.js';

await loadAnalyzers();

test('unknown session: no options (both readings); reported settings become analyzer options', () => {
  const s = new SessionLexing();
  const conn = {};
  assert.equal(s.options(conn), UNKNOWN_LEXING);
  assert.equal(s.options(undefined), UNKNOWN_LEXING);
  s.report(conn, 'standard_conforming_strings', true);
  assert.deepEqual(s.options(conn), { standardConformingStrings: true });
  s.report(conn, 'no_backslash_escapes', true);
  assert.deepEqual(s.options(conn), { standardConformingStrings: true, backslashEscapes: false });
  const other = {};
  s.report(other, 'standard_conforming_strings', true);
  s.report(other, 'no_backslash_escapes', true);
  assert.equal(s.options(other), s.options(conn), 'the same settings give the same (interned) object');
});

test('PostgreSQL: a SET makes the setting unknown until it completes; its in-band report is then current', () => {
  const s = new SessionLexing();
  const conn = {};
  s.report(conn, 'standard_conforming_strings', true);
  s.changing(conn);
  s.changing(conn);
  assert.equal(s.options(conn), UNKNOWN_LEXING, 'pipelined statements behind a SET are analysed both ways');
  s.report(conn, 'standard_conforming_strings', false); // the server's ParameterStatus
  s.changed(conn);
  assert.equal(s.options(conn), UNKNOWN_LEXING, 'still one changer in flight');
  s.changed(conn);
  assert.deepEqual(s.options(conn), { standardConformingStrings: false });
});

test('PostgreSQL: a changer that changed nothing (no report) leaves the known value', () => {
  const s = new SessionLexing();
  const conn = {};
  s.report(conn, 'standard_conforming_strings', true);
  s.changing(conn);
  s.changed(conn);
  assert.deepEqual(s.options(conn), { standardConformingStrings: true });
});

test('MySQL: a status snapshot taken while a changer is in flight is not trusted; after it, unknown until the next snapshot', () => {
  const s = new SessionLexing();
  const conn = {};
  s.report(conn, 'no_backslash_escapes', false); // handshake
  assert.deepEqual(s.options(conn), { backslashEscapes: true });
  s.changing(conn); // SET sql_mode = ...
  s.report(conn, 'no_backslash_escapes', false); // an earlier INSERT's OK packet, completing after the SET was sent
  s.changed(conn);
  assert.equal(s.options(conn), UNKNOWN_LEXING);
  s.report(conn, 'no_backslash_escapes', true); // the next OK packet
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
