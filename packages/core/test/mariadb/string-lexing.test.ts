import assert from 'node:assert/strict';
import { test } from 'node:test';
import mariadb from 'mariadb';
import { createAuditor, type QuerytrailEvent } from '@querytrail/core';
import { loadAnalyzers } from '../../src/analysis/index.js';

await loadAnalyzers();

/** One string with backslash escapes (the default); two statements under NO_BACKSLASH_ESCAPES. */
const TWO_READINGS = "SELECT 'a\\' AS x; SELECT 1 -- '";

test('mariadb: the driver status flags say how strings lex, before and after SET sql_mode', async () => {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name: 'test' }, journal: false, catalog: { mode: false }, onEvent: (e) => events.push(e) });
  const commands = () => events.filter((e) => e.type === 'db.query' && e.statement?.text === TWO_READINGS).map((e) => e.statement?.command);
  const conn = auditor.instrumentMariadb(await mariadb.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' }));
  try {
    await conn.query(TWO_READINGS);
    assert.deepEqual(commands(), ['SELECT'], 'backslash escapes on: one statement, as the server reads it');
    // Sent behind the SET, before it ran: unknown, so both readings.
    const set = conn.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
    const behind = conn.query(TWO_READINGS).catch(() => undefined);
    await Promise.all([set, behind]);
    assert.equal(commands()[1], 'SELECT; SELECT');
    await conn.query(TWO_READINGS).catch(() => undefined); // two statements for the server: refused without multipleStatements
    assert.equal(commands()[2], 'SELECT; SELECT', 'after the SET completed, its OK packet says NO_BACKSLASH_ESCAPES');
    await conn.query("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
    await conn.query(TWO_READINGS);
    assert.equal(commands()[3], 'SELECT', 'and back');
  } finally {
    await conn.end();
    await auditor.close();
  }
});
