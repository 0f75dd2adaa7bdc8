/** introspectCatalog against the real local PostgreSQL and MariaDB (tables and views, ordered columns). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { analyze, CatalogSource, introspectCatalog, loadAnalyzers } from '../../src/analysis/index.js';

const suffix = randomBytes(4).toString('hex');

describe('introspectCatalog: PostgreSQL', () => {
  const schema = `qt_an_${suffix}`;
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  const query = async (sql: string): Promise<Array<Record<string, unknown>>> => (await client.query(sql)).rows as Array<Record<string, unknown>>;

  before(async () => {
    await loadAnalyzers();
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}."Account" (id int, "Email" text, ssn text)`);
    await client.query(`CREATE VIEW ${schema}.account_emails AS SELECT id, "Email" FROM ${schema}."Account"`);
  });
  after(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('reads tables and views with ordered, case-preserved columns', async () => {
    const cat = await introspectCatalog(query, 'postgres');
    const t = cat.lookup(schema, 'Account');
    assert.deepEqual(t?.columns, ['id', 'Email', 'ssn']);
    assert.equal(t?.type, 'table');
    assert.equal(cat.lookup(schema, 'account'), undefined, 'PostgreSQL lookups are exact');
    const v = cat.lookup(schema, 'account_emails');
    assert.deepEqual(v?.columns, ['id', 'Email']);
    assert.equal(v?.type, 'view');
    assert.ok(cat.searchPath.includes('public'));
  });
  it('expands * through the introspected catalog', async () => {
    const cat = await introspectCatalog(query, 'postgres');
    const r = analyze(`SELECT * FROM ${schema}."Account"`, { dialect: 'postgres', catalog: cat });
    assert.deepEqual(r.objects[0]?.columns, ['id', 'Email', 'ssn']);
  });
  it('CatalogSource refreshes after DDL', async () => {
    const src = new CatalogSource(query, 'postgres');
    await src.refresh();
    assert.equal(src.current?.lookup(schema, 'later'), undefined);
    const ddl = `CREATE TABLE ${schema}.later (x int)`;
    await client.query(ddl);
    src.noteAnalysis(analyze(ddl, { dialect: 'postgres' }));
    await src.refresh();
    assert.deepEqual(src.current?.lookup(schema, 'later')?.columns, ['x']);
  });
});

describe('introspectCatalog: MariaDB', () => {
  const table = `qt_an_${suffix}`;
  let conn: mysql.Connection;
  const query = async (sql: string): Promise<Array<Record<string, unknown>>> => {
    const [rows] = await conn.query(sql);
    return rows as Array<Record<string, unknown>>;
  };

  before(async () => {
    await loadAnalyzers();
    conn = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' });
    await conn.query(`CREATE TABLE \`${table}\` (id INT, Email VARCHAR(50), ssn VARCHAR(20))`);
    await conn.query(`CREATE VIEW \`${table}_v\` AS SELECT id, Email FROM \`${table}\``);
  });
  after(async () => {
    await conn.query(`DROP VIEW IF EXISTS \`${table}_v\``);
    await conn.query(`DROP TABLE IF EXISTS \`${table}\``);
    await conn.end();
  });

  it('reads tables and views with ordered columns; lookups are case-insensitive', async () => {
    const cat = await introspectCatalog(query, 'mariadb');
    assert.deepEqual(cat.searchPath, ['test']);
    assert.deepEqual(cat.lookup('test', table)?.columns, ['id', 'Email', 'ssn']);
    assert.deepEqual(cat.lookup(undefined, table.toUpperCase())?.columns, ['id', 'Email', 'ssn']);
    const v = cat.lookup(undefined, `${table}_v`);
    assert.equal(v?.type, 'view');
    assert.deepEqual(v?.columns, ['id', 'Email']);
    const r = analyze(`SELECT t.* FROM ${table} t WHERE EMAIL = ?`, { dialect: 'mariadb', catalog: cat });
    assert.deepEqual([...(r.objects[0]?.columns ?? [])].sort(), ['Email', 'id', 'ssn']);
    assert.equal(r.objects[0]?.schema, 'test');
  });
});
