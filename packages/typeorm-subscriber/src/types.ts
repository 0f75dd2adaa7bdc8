import type { CompiledPolicy, PolicyInput } from '@querytrail/core';

/** Options of `instrumentTypeorm`. */
export interface TypeormInstrumentationOptions {
  /**
   * The policy you gave `createAuditor` (the same object). With it, the subscriber refuses a statement
   * the policy blocks in TypeORM's `beforeQuery`, before a connection is used, with a message naming
   * the entity and operation. Without it, blocks still happen at the driver (same record, same code).
   */
  policy?: CompiledPolicy | PolicyInput | undefined;
  /** Record TypeORM-level context (entity, operation, property mapping). Default true. */
  context?: boolean | undefined;
}

/** What TypeORM passes to beforeQuery / afterQuery (0.3.18+ and 1.x), reduced to what we read. */
export interface QueryEventLike {
  query: string;
  parameters?: unknown[] | Record<string, unknown> | undefined;
  dataSource?: object | undefined;
  connection?: object | undefined;
  queryRunner?: QueryRunnerLike | undefined;
}

/** The parts of a TypeORM QueryRunner this package touches. */
export interface QueryRunnerLike {
  query(query: string, parameters?: unknown[], useStructuredResult?: boolean): Promise<unknown>;
  stream(query: string, parameters?: unknown[], onEnd?: unknown, onError?: unknown): Promise<unknown>;
  /** The driver connection while the runner holds one (pg Client, mysql2 PoolConnection). */
  databaseConnection?: unknown;
}

/** TypeORM's driver objects differ per database; these are the fields we read or replace. */
export interface DriverInternals {
  options: { type: string };
  /** PostgresDriver: the `pg` module (or options.driver). */
  postgres?: unknown;
  /** MysqlDriver: the `mysql2` module (or options.driver). */
  mysql?: unknown;
  /** PostgresDriver pools once connected. */
  master?: object | undefined;
  slaves?: object[] | undefined;
  /** MysqlDriver pool / pool cluster once connected. */
  pool?: object | undefined;
  poolCluster?: object | undefined;
  createQueryRunner(mode?: string): QueryRunnerLike;
}

/** Where an entity lives in TypeORM's metadata. */
export interface EntityMetadataLike {
  name: string;
  tableName: string;
  schema?: string | undefined;
  target?: unknown;
  columns: ReadonlyArray<{ propertyPath: string; databaseName: string }>;
}

export interface DataSourceLike {
  readonly options: { type: string };
  readonly isInitialized: boolean;
  readonly driver: unknown;
  readonly manager: object;
  readonly entityMetadatas: readonly EntityMetadataLike[];
  subscribers: unknown[];
  hasMetadata(target: unknown): boolean;
  getMetadata(target: unknown): EntityMetadataLike;
  createEntityManager(queryRunner?: unknown): object;
}
