import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAuditor, loadAnalyzers, type QuerytrailEvent } from '@querytrail/core';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { validatingListener } from '../support/valid-events.js';

await loadAnalyzers();

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

function lastQuery(events: QuerytrailEvent[], marker: string): QuerytrailEvent {
  const found = events.filter((e) => e.type === 'db.query' && e.statement?.text?.includes(marker));
  assert.ok(found.length > 0, `no db.query event for ${marker}`);
  return found.at(-1)!;
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('PostgreSQL: catalog introspected on first connect, refreshed after DDL; PREPARE/EXECUTE tracked', () => {
  const table = `qt_cat_${randomBytes(5).toString('hex')}`;
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name: 'catalog' }, journal: false, onEvent: validatingListener((e) => events.push(e)) });
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 2 }));
  const admin = new pg.Client(PG);

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, email text, ssn text)`);
  });
  after(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
    await pool.end();
    await auditor.close();
  });

  test('SELECT * lists the columns it read, from information_schema', async () => {
    await pool.query('SELECT 1');
    await until(() => events.some((e) => e.actor?.id === 'querytrail' && e.result?.outcome === 'success'), 'the introspection query');
    await auditor.refreshCatalog();
    await pool.query(`SELECT * FROM ${table} WHERE id = $1`, [1]);
    const e = lastQuery(events, `FROM ${table}`);
    const obj = e.objects?.find((o) => o.name === table);
    assert.deepEqual(obj?.columns, ['id', 'email', 'ssn']);
    // The introspection itself is on the record, as querytrail's own read.
    const intro = events.find((x) => x.actor?.id === 'querytrail');
    assert.equal(intro?.actor?.type, 'system');
    assert.equal(intro?.statement?.class, 'read');
  });

  test('after ALTER TABLE the catalog is refreshed: a new column shows up in SELECT *', async () => {
    await pool.query(`ALTER TABLE ${table} ADD COLUMN phone text`);
    await until(() => events.filter((e) => e.actor?.id === 'querytrail').length >= 3, 'the refresh after DDL');
    await auditor.refreshCatalog();
    await pool.query(`SELECT * FROM ${table} /* after-alter */`);
    const e = lastQuery(events, 'after-alter');
    assert.deepEqual(e.objects?.find((o) => o.name === table)?.columns, ['id', 'email', 'ssn', 'phone']);
  });

  test('EXECUTE of a statement PREPAREd on the same connection is judged by its body', async () => {
    const client = await pool.connect();
    try {
      await client.query(`PREPARE wipe_${table} AS DELETE FROM ${table}`);
      await client.query(`EXECUTE wipe_${table}`);
      await client.query(`DEALLOCATE wipe_${table}`);
    } finally {
      client.release();
    }
    const exec = lastQuery(events, `EXECUTE wipe_${table}`);
    assert.equal(exec.statement?.destructive, true);
    assert.ok(exec.objects?.some((o) => o.name === table && o.access === 'write'), JSON.stringify(exec.objects));
  });
});

describe('MariaDB: catalog introspected on first connect; static catalogs win', () => {
  const table = `qt_cat_${randomBytes(5).toString('hex')}`;
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name: 'catalog' }, journal: false, onEvent: validatingListener((e) => events.push(e)) });
  const pool = auditor.instrumentMysql2(mysql.createPool({ ...MY, connectionLimit: 2 }));

  before(async () => {
    const c = await mysql.createConnection(MY);
    await c.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, card_number VARCHAR(32), name VARCHAR(64))`);
    await c.end();
  });
  after(async () => {
    const c = await mysql.createConnection(MY);
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.end();
    await pool.end();
    await auditor.close();
  });

  test('SELECT t.* lists the columns it read', async () => {
    await pool.query('SELECT 1');
    await until(() => events.some((e) => e.actor?.id === 'querytrail' && e.result?.outcome === 'success'), 'the introspection query');
    await auditor.refreshCatalog();
    await pool.query(`SELECT t.* FROM ${table} t WHERE t.id = ?`, [1]);
    const e = lastQuery(events, `FROM ${table} t`);
    assert.deepEqual(e.objects?.find((o) => o.name === table)?.columns, ['id', 'card_number', 'name']);
  });

  test('a static catalog is used as given, without introspection', async () => {
    const seen: QuerytrailEvent[] = [];
    const a = createAuditor({
      service: { name: 'static' },
      journal: false,
      catalog: { static: { test: { test: { [table]: ['id', 'card_number'] } } } },
      onEvent: validatingListener((e) => seen.push(e)),
    });
    const p = a.instrumentMysql2(mysql.createPool({ ...MY, connectionLimit: 1 }));
    await p.query(`SELECT * FROM ${table}`);
    await p.end();
    await a.close();
    assert.ok(!seen.some((e) => e.actor?.id === 'querytrail'), 'no introspection with a static catalog');
    assert.deepEqual(lastQuery(seen, `FROM ${table}`).objects?.find((o) => o.name === table)?.columns, ['id', 'card_number']);
  });
});
