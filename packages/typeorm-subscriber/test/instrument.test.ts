import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { ConfigError, createAuditor, type QuerytrailEvent } from '@querytrail/core';
import { DataSource } from 'typeorm';
import { instrumentTypeorm } from '@querytrail/typeorm';
import { makeEntities } from './entities.js';
import { createTables, dataSourceOptions, dropTables, RecordingLogger, sorted } from './helpers.js';

/** Set-up paths of instrumentTypeorm: refusals, instrumenting twice, late instrumentation, context off. */
const entities = makeEntities('qt_to_ins_pg');

before(() => createTables('postgres', entities));
after(() => dropTables('postgres', entities));

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
