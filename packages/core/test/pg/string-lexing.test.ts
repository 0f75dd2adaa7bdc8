import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { harness, PG_CONFIG } from './helpers.js';

/**
 * One text, two readings: with standard_conforming_strings on, 'a\' ends at the second quote and the
 * text is two statements; with it off, \' is an escaped quote and the text is one SELECT of a string.
 * The server tells each session which it is (ParameterStatus); the analysis must follow it.
 */
const TWO_READINGS = "SELECT 'a\\' AS x; SELECT 1 --'";

function commandOf(h: ReturnType<typeof harness>, nth: number): string | undefined {
  return h.withText("SELECT 'a\\'")[nth]?.statement?.command;
}

test('pg: the analysis follows the session standard_conforming_strings the server reports, and is conservative while a SET is in flight', async () => {
  const h = harness();
  const pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 1 }));
  try {
    const client = await pool.connect();
    try {
      // Default (on): two statements, and the server runs both.
      const on = await client.query(TWO_READINGS);
      assert.equal(Array.isArray(on) ? on.length : 1, 2, 'the server read two statements');
      assert.equal(commandOf(h, 0), 'SELECT; SELECT');

      await client.query('SET standard_conforming_strings = off');
      const off = await client.query(TWO_READINGS);
      assert.equal(Array.isArray(off) ? off.length : 1, 1, 'the server read one statement');
      assert.equal(commandOf(h, 1), 'SELECT', 'known off: analysed as the server reads it');

      // Sent behind a SET that has not run yet: the setting is unknown, so both readings, more severe wins.
      const pending = client.query('SET standard_conforming_strings = on');
      const behind = client.query(TWO_READINGS);
      await Promise.all([pending, behind]);
      assert.equal(commandOf(h, 2), 'SELECT; SELECT');

      await client.query('RESET standard_conforming_strings');
      await client.query('SET standard_conforming_strings = off');
      await client.query(TWO_READINGS);
      assert.equal(commandOf(h, 3), 'SELECT');
    } finally {
      await client.query('RESET standard_conforming_strings').catch(() => undefined);
      client.release();
    }
  } finally {
    await pool.end();
  }
});
