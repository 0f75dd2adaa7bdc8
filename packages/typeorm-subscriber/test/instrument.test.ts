import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError, createAuditor, type PolicyInput, type QuerytrailEvent } from '@querytrail/core';
import { instrumentTypeorm, QuerytrailSubscriber } from '@querytrail/typeorm';
import { makeEntities } from './entities.js';
import { createTables, dataSourceOptions, dropTables, RecordingLogger, sorted } from './helpers.js';
import { TYPEORM_VERSIONS } from './versions.js';

/**
 * Set-up paths of instrumentTypeorm: refusals, instrumenting twice, late instrumentation, context off;
 * each (but the refusals, which use stand-ins) once per TypeORM version.
 */

function memoryAuditor(events: QuerytrailEvent[]) {
  return createAuditor({ service: { name: 'typeorm-test' }, journal: false, catalog: { mode: false }, onEvent: (e) => events.push(e) });
}

test('an unsupported database, or the old mysql package, is a ConfigError naming the option', async () => {
  const auditor = memoryAuditor([]);
  assert.throws(
    () => instrumentTypeorm({ options: { type: 'sqlite' }, driver: {} }, auditor),
    (e: unknown) => e instanceof ConfigError && e.path === 'dataSource.options.type',
  );
  assert.throws(
    () => instrumentTypeorm({ options: { type: 'mysql' }, driver: { mysql: { createPool() {} }, createQueryRunner() {} } }, auditor),
    (e: unknown) => e instanceof ConfigError && e.path === 'dataSource.options.connectorPackage',
  );
  await auditor.close();
});

test("the plugin never loads 'typeorm' itself (the app's copy, 0.3 or 1.x, provides every class)", () => {
  const src = new URL('../src/', import.meta.url);
  const loads: string[] = [];
  for (const file of readdirSync(src)) {
    const text = readFileSync(new URL(file, src), 'utf8');
    const runtime = /^\s*(?:import(?!\s+type\b)[^;]*?from\s*|export(?!\s+type\b)[^;]*?from\s*|.*\b(?:require|import)\s*\(\s*)['"]typeorm(?:\/[^'"]*)?['"]/m;
    if (runtime.test(text)) loads.push(file);
  }
  assert.ok(readdirSync(src).length > 5);
  assert.deepEqual(loads, []);
});

for (const { typeorm, version, tag } of TYPEORM_VERSIONS) {
  const { DataSource } = typeorm;
  describe(`TypeORM ${version}`, () => {
    const entities = makeEntities(typeorm, `qt_to_ins_pg_${tag}`);

    before(() => createTables(typeorm, 'postgres', entities));
    after(() => dropTables('postgres', entities));

    test('instrumenting twice records each statement once', async () => {
      const events: QuerytrailEvent[] = [];
      const auditor = memoryAuditor(events);
      const logger = new RecordingLogger();
      const ds = new DataSource(dataSourceOptions('postgres', { entities: entities.schemas, logger, logging: true }));
      instrumentTypeorm(ds, auditor);
      instrumentTypeorm(ds, auditor);
      await ds.initialize();
      await ds.getRepository(entities.Author).findBy({ email: 'twice@example.com' });
      await ds.destroy();
      await auditor.close();
      const sent = events.filter((e) => e.type === 'db.query').map((e) => e.statement?.text ?? '');
      assert.ok(sent.length >= 3);
      assert.deepEqual(sorted(sent), sorted(logger.queries));
    });

    test('after initialize(): a warning, and statements from then on are recorded with context', async () => {
      const events: QuerytrailEvent[] = [];
      const auditor = memoryAuditor(events);
      const ds = new DataSource(dataSourceOptions('postgres', { entities: entities.schemas }));
      await ds.initialize();
      const warned = once(process, 'warning');
      instrumentTypeorm(ds, auditor);
      const [warning] = (await warned) as [Error & { code?: string }];
      assert.equal(warning.code, 'QUERYTRAIL_TYPEORM_LATE');
      await auditor.runWithContext({ actor: { type: 'human', id: 'late' } }, () => ds.getRepository(entities.Author).countBy({ email: 'late@example.com' }));
      await ds.destroy();
      await auditor.close();
      const sent = events.filter((e) => e.type === 'db.query');
      assert.equal(sent.length, 1);
      assert.deepEqual([sent[0]?.actor?.id, sent[0]?.orm?.model, sent[0]?.orm?.operation], ['late', 'Author', 'countBy']);
    });

    test('context: false records the statements without an orm field', async () => {
      const events: QuerytrailEvent[] = [];
      const auditor = memoryAuditor(events);
      const ds = instrumentTypeorm(new DataSource(dataSourceOptions('postgres', { entities: entities.schemas })), auditor, { context: false });
      await ds.initialize();
      await ds.getRepository(entities.Author).findBy({ email: 'none@example.com' });
      await ds.destroy();
      await auditor.close();
      const sent = events.filter((e) => e.type === 'db.query');
      assert.ok(sent.length >= 3);
      assert.deepEqual(
        sent.filter((e) => e.orm !== undefined).map((e) => e.statement?.text),
        [],
      );
    });

    for (const context of [true, false]) {
      test(`an early refusal TypeORM never delivered (a later subscriber threw) does not refuse the statement later (context: ${context})`, async () => {
        const events: QuerytrailEvent[] = [];
        const auditor = memoryAuditor(events); // no policy: the driver lets everything through
        const noReads: PolicyInput = {
          version: 1,
          rules: [{ id: 'no-author-reads', match: { commands: 'SELECT' }, scope: { table: [entities.tables.author] }, action: 'block' }],
        };
        // One connection, so the second statement goes to the connection the refusal was queued on.
        const ds = instrumentTypeorm(new DataSource(dataSourceOptions('postgres', { entities: entities.schemas, poolSize: 1 })), auditor, { policy: noReads, context });
        await ds.initialize();
        const sql = `SELECT count(*) AS n FROM "${entities.tables.author}"`;
        const thrower = {
          beforeQuery() {
            throw new Error('another subscriber refused');
          },
        };
        ds.subscribers.push(thrower);
        await assert.rejects(ds.query(sql), /another subscriber refused/);
        // The early check refused it (withdrawn: the auditor allows it), and it was never sent.
        const first = events.filter((e) => e.statement?.text === sql);
        assert.deepEqual(first.map((e) => [e.type, e.result?.outcome, e.result?.error?.code]), [['db.query', 'failure', 'QT_ERR_POLICY_BLOCKED']]);
        // Now without any early check: the statement must reach the driver (and the server).
        ds.subscribers.splice(0, ds.subscribers.length, ...ds.subscribers.filter((s) => s !== thrower && !(s instanceof QuerytrailSubscriber)));
        const rows = (await ds.query(sql)) as Array<{ n: unknown }>;
        assert.equal(String(rows[0]?.n), '0');
        await ds.destroy();
        await auditor.close();
        const all = events.filter((e) => e.statement?.text === sql);
        assert.equal(all.length, 2);
        assert.equal(all[1]?.result?.outcome, 'success');
        assert.equal(all[1]?.db?.connection_id, all[0]?.db?.connection_id, 'the same connection');
      });
    }
  });
}

/** What docs/typeorm.md says about 0.3's MySQL connector (`connectorPackage`), checked on the 0.3 release installed. */
for (const { typeorm, version } of TYPEORM_VERSIONS.filter((v) => v.version.startsWith('0.3.'))) {
  describe(`TypeORM ${version}: the MySQL connector package`, () => {
    test("connectorPackage 'mysql' (the old mysql package's API) is a ConfigError naming the option", async () => {
      const auditor = memoryAuditor([]);
      // A stand-in with the mysql package's factories (no createPoolPromise, which only mysql2 has).
      const mysqlApi = { createPool() {}, createConnection() {}, createPoolCluster() {} };
      const ds = new typeorm.DataSource({ ...dataSourceOptions('mariadb'), connectorPackage: 'mysql', driver: mysqlApi } as never);
      assert.throws(
        () => instrumentTypeorm(ds, auditor),
        (e: unknown) => e instanceof ConfigError && e.path === 'dataSource.options.connectorPackage',
      );
      await auditor.close();
    });

    test('without connectorPackage it loads mysql, else falls back to mysql2 (instrumented)', async () => {
      const events: QuerytrailEvent[] = [];
      const auditor = memoryAuditor(events);
      const ds = new typeorm.DataSource({ ...dataSourceOptions('mariadb'), connectorPackage: undefined } as never);
      let mysqlInstalled = true;
      try {
        createRequire(import.meta.url).resolve('mysql');
      } catch {
        mysqlInstalled = false;
      }
      if (mysqlInstalled) {
        assert.throws(() => instrumentTypeorm(ds, auditor), (e: unknown) => e instanceof ConfigError);
      } else {
        instrumentTypeorm(ds, auditor);
        await ds.initialize();
        await ds.query('SELECT 1 AS one');
        await ds.destroy();
        const one = events.filter((e) => e.type === 'db.query' && e.statement?.text === 'SELECT 1 AS one');
        assert.deepEqual(one.map((e) => e.db?.driver), ['mysql2']);
      }
      await auditor.close();
    });
  });
}
