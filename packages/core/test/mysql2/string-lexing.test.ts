import assert from 'node:assert/strict';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { DB, harness } from './helpers.js';

/**
 * With backslash escapes (MySQL's default), 'a\' AS x; SELECT 1 -- ' is one string; with
 * NO_BACKSLASH_ESCAPES the text is two statements. The handshake says how a session starts out.
 */
const TWO_READINGS = "SELECT 'a\\' AS x; SELECT 1 -- '";

test('mysql2: the handshake status says how strings lex; a SET sql_mode is followed through its OK packet', async () => {
  const h = harness();
  const conn = h.auditor.instrumentMysql2(await mysql.createConnection(DB));
  try {
    const [rows] = await conn.query(TWO_READINGS);
    assert.equal((rows as unknown[]).length, 1, 'the server read one statement (one row)');
    assert.equal(h.queries(TWO_READINGS)[0]?.statement?.command, 'SELECT', 'known from the handshake: analysed as the server reads it');

    const [mode] = await conn.query('SELECT @@SESSION.sql_mode AS m');
    const original = (mode as { m: string }[])[0]!.m;
    await conn.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
    // Now the server reads two statements (and refuses them without multipleStatements).
    await conn.query(TWO_READINGS).catch(() => undefined);
    assert.equal(h.queries(TWO_READINGS)[1]?.statement?.command, 'SELECT; SELECT', 'read as the server now reads it');

    // Back to backslash escapes: the SET's OK packet says so, and the text is one harmless SELECT again
    // (with the setting unknown it would be read both ways and the more severe reading would win).
    await conn.query('SET SESSION sql_mode = ?', [original]);
    await conn.query(TWO_READINGS);
    assert.equal(h.queries(TWO_READINGS)[2]?.statement?.command, 'SELECT', 'known again from the OK packet of the SET');

    // A changer that ends without an OK packet (here an error) leaves the setting unknown: both readings.
    await assert.rejects(conn.query('CALL qt_no_such_procedure()'));
    await conn.query(TWO_READINGS).catch(() => undefined);
    assert.equal(h.queries(TWO_READINGS)[3]?.statement?.command, 'SELECT; SELECT', 'unknown after a changer with no OK packet');
  } finally {
    await conn.end();
  }
});
