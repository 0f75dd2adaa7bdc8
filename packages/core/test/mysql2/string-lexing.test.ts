import assert from 'node:assert/strict';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { DB, harness } from './helpers.js';

/**
 * With backslash escapes (MySQL's default), 'a\' AS x; SELECT 1 -- ' is one string; with
 * NO_BACKSLASH_ESCAPES the text is two statements. The handshake says how a session starts out.
 */
const TWO_READINGS = "SELECT 'a\\' AS x; SELECT 1 -- '";

test('mysql2: the handshake status says how strings lex; after a SET sql_mode, texts with a backslash are read both ways', async () => {
  const h = harness();
  const conn = h.auditor.instrumentMysql2(await mysql.createConnection(DB));
  try {
    const [rows] = await conn.query(TWO_READINGS);
    assert.equal((rows as unknown[]).length, 1, 'the server read one statement (one row)');
    assert.equal(h.queries(TWO_READINGS)[0]?.statement?.command, 'SELECT', 'known from the handshake: analysed as the server reads it');

    await conn.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
    // The session now lexes differently; the wrapper cannot see sql_mode after a SET, so: both readings.
    await conn.query(TWO_READINGS).catch(() => undefined); // two statements for the server: refused without multipleStatements
    assert.equal(h.queries(TWO_READINGS)[1]?.statement?.command, 'SELECT; SELECT', 'the more severe reading wins once the setting is unknown');
  } finally {
    await conn.end();
  }
});
