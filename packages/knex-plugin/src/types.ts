/**
 * The small structural view of knex that the plugin needs. Nothing here imports knex: the plugin works
 * on the instance the application passes (knex 3), as core does with drivers.
 */

/** What instrumentKnex needs from an Auditor: its two driver wrappers. */
export interface DriverInstrumenter {
  instrumentPg<T extends object>(target: T): T;
  instrumentMysql2<T extends object>(target: T): T;
}

/** A knex instance (`knex(config)`) or anything else with its `client`. */
export interface KnexLike {
  client: unknown;
}

/** knex's dialect client (lib/client.js and dialects/*): the parts the plugin touches. */
export interface KnexClientLike {
  /** Shared, by reference, with every transaction client made from this one: the plugin's key. */
  config: object;
  driverName?: string;
  /** Set on transaction clients (makeTxClient). */
  transacting?: boolean;
  /** The driver module (`require('pg')`, `require('mysql2')`), present once a connection is configured. */
  driver?: object;
  pool?: unknown;
  acquireConnection(): Promise<object>;
  /** Opens one new driver connection (called by the pool, and by cancelQuery). */
  acquireRawConnection?: (...args: unknown[]) => Promise<object>;
  runner(builder: unknown): object;
  query(connection: object, obj: unknown): Promise<unknown>;
}

/** lib/execution/runner.js */
export interface RunnerLike {
  client: KnexClientLike;
  builder: BuilderLike | undefined;
  query(obj: unknown): Promise<unknown>;
  stream(...args: unknown[]): unknown;
}

/** A QueryBuilder, SchemaBuilder or Raw: only the fields that name the operation and the table. */
export interface BuilderLike {
  _method?: unknown;
  _single?: { table?: unknown; schema?: unknown };
  _sequence?: Array<{ method?: unknown; args?: unknown[] }>;
}

/** One compiled statement as knex hands it to client.query (from builder.toSQL(), or a string). */
export interface CompiledQueryLike {
  method?: unknown;
  sql?: unknown;
}

/** tarn's Pool: the connections it already holds, idle or in use. */
export interface TarnPoolLike {
  free?: Array<{ resource?: unknown }>;
  used?: Array<{ resource?: unknown }>;
}
