import { type Auditor, type CompiledPolicy, ConfigError, definePolicy, isCompiledPolicy } from '@querytrail/core';
import { auditedMysql2Module, auditedPgModule } from './driver-modules.js';
import { wrapEntityManager } from './entity-manager.js';
import { MetadataIndex } from './metadata-index.js';
import { patchQueryBuilders } from './query-builder.js';
import { wrapQueryRunner } from './query-runner.js';
import { type TypeormState, setState, stateOf } from './state.js';
import { analysisDbOf } from './statement-context.js';
import { QuerytrailSubscriber } from './subscriber.js';
import type { DataSourceLike, DriverInternals, QueryRunnerLike, TypeormInstrumentationOptions } from './types.js';

const SUPPORTED = new Set(['postgres', 'mysql', 'mariadb']);

/**
 * Instruments a TypeORM DataSource (0.3.x or 1.x, PostgreSQL through `pg`, MySQL/MariaDB through
 * `mysql2`) and returns it. Call it before `initialize()`: the driver module TypeORM loaded is
 * replaced by a view whose pools are instrumented when created, so every statement TypeORM sends,
 * its own start-up and schema statements included, is recorded once, by the driver wrapper.
 */
export function instrumentTypeorm<D extends object>(dataSource: D, auditor: Auditor, options: TypeormInstrumentationOptions = {}): D {
  const ds = dataSource as unknown as DataSourceLike;
  if (stateOf(ds)) return dataSource;
  const type = ds.options?.type;
  if (!SUPPORTED.has(type)) {
    throw new ConfigError('dataSource.options.type', `@querytrail/typeorm supports postgres, mysql and mariadb, not ${JSON.stringify(type)}`);
  }
  const driver = ds.driver as DriverInternals;
  const state: TypeormState = {
    auditor,
    dataSource: ds,
    metadata: new MetadataIndex(ds),
    analysisDb: analysisDbOf(type),
    policy: compilePolicy(options.policy),
    context: options.context !== false,
  };
  instrumentDriver(ds, driver, auditor, type); // may refuse (ConfigError) before anything is changed
  setState(ds, state);

  const createQueryRunner = driver.createQueryRunner;
  driver.createQueryRunner = function (this: DriverInternals, ...args: [string?]) {
    return wrapQueryRunner(state, createQueryRunner.apply(this, args) as QueryRunnerLike);
  };
  if (state.context) {
    wrapEntityManager(state, ds.manager);
    const createEntityManager = ds.createEntityManager;
    (ds as { createEntityManager: DataSourceLike['createEntityManager'] }).createEntityManager = function (this: DataSourceLike, ...args: [unknown?]) {
      return wrapEntityManager(state, createEntityManager.apply(this, args));
    };
    patchQueryBuilders(ds);
  }
  registerSubscriber(ds, new QuerytrailSubscriber());
  return dataSource;
}

function compilePolicy(policy: TypeormInstrumentationOptions['policy']): CompiledPolicy | undefined {
  if (policy === undefined) return undefined;
  return isCompiledPolicy(policy) ? policy : definePolicy(policy);
}

function instrumentDriver(ds: DataSourceLike, driver: DriverInternals, auditor: Auditor, type: string): void {
  if (type === 'postgres') {
    if (driver.postgres && typeof driver.postgres === 'object') driver.postgres = auditedPgModule(driver.postgres, auditor);
  } else if (driver.mysql && typeof driver.mysql === 'object') {
    // TypeORM 0.3 may load the older `mysql` package; querytrail instruments mysql2 only.
    if (typeof (driver.mysql as { createPoolPromise?: unknown }).createPoolPromise !== 'function') {
      throw new ConfigError('dataSource.options.connectorPackage', "@querytrail/typeorm needs the mysql2 driver: set connectorPackage: 'mysql2'");
    }
    driver.mysql = auditedMysql2Module(driver.mysql, auditor);
  }
  if (!ds.isInitialized) return;
  // Late: pools already exist. Instrument them in place (clients in them included); statements
  // sent before this call were not recorded.
  process.emitWarning('instrumentTypeorm was called after initialize(): statements sent before it were not recorded', {
    code: 'QUERYTRAIL_TYPEORM_LATE',
  });
  if (type === 'postgres') {
    for (const pool of [driver.master, ...(driver.slaves ?? [])]) if (pool) auditor.instrumentPg(pool);
  } else {
    for (const pool of [driver.pool, driver.poolCluster]) if (pool) auditor.instrumentMysql2(pool);
  }
}

/**
 * TypeORM rebuilds `dataSource.subscribers` from `options.subscribers` (classes only) in initialize(),
 * so our instance is added after metadata is built, or now if that already happened.
 */
function registerSubscriber(ds: DataSourceLike, subscriber: QuerytrailSubscriber): void {
  const add = () => {
    if (!ds.subscribers.some((s) => s instanceof QuerytrailSubscriber)) ds.subscribers.push(subscriber);
  };
  if (ds.isInitialized) {
    add();
    return;
  }
  const target = ds as unknown as { buildMetadatas?: (...args: unknown[]) => Promise<void> };
  const build = target.buildMetadatas;
  if (typeof build !== 'function') return;
  target.buildMetadatas = async function (this: unknown, ...args: unknown[]) {
    await build.apply(this, args);
    add();
  };
}
