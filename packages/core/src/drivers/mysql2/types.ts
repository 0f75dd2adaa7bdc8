/**
 * The small structural shapes of mysql2 that the wrapper relies on. Core never imports mysql2 at run
 * time; these describe mysql2 3.x (lib/base/connection.js, lib/base/pool.js, lib/pool_cluster.js,
 * lib/promise/*.js) closely enough to patch instances in place.
 */
import type { EventEmitter } from 'node:events';

/** mysql2's result callback: (err, rows, fields). */
export type ResultCallback = (err: unknown, rows?: unknown, fields?: unknown) => unknown;
export type AnyFunction = (...args: unknown[]) => unknown;

export interface ConnectionConfigLike {
  host?: string | undefined;
  port?: number | undefined;
  socketPath?: string | undefined;
  user?: string | undefined;
  database?: string | undefined;
}

/** A Query or Execute command: an EventEmitter with the template text and values before formatting. */
export interface CommandLike extends EventEmitter {
  sql?: unknown;
  values?: unknown;
  onResult?: ResultCallback | null | undefined;
}

/** Connection, PoolConnection (lib/base/connection.js). */
export interface ConnectionLike extends EventEmitter {
  config: ConnectionConfigLike;
  threadId?: number | null | undefined;
  /** Set when the handshake completes; carries the server version string. */
  _handshakePacket?: { serverVersion?: string | undefined } | null | undefined;
  _isMariaDB?: boolean | undefined;
  stream?: EventEmitter | undefined;
  addCommand: AnyFunction;
  query: AnyFunction;
  execute: AnyFunction;
  prepare: AnyFunction;
}

/** The connection class: `createQuery` is a static of BaseConnection. */
export interface ConnectionClassLike {
  createQuery?: (sql: unknown, values: unknown, cb: unknown, config: ConnectionConfigLike) => CommandLike;
}

/** PreparedStatementInfo (lib/commands/prepare.js). */
export interface PreparedStatementLike {
  query: string;
  id: number;
  execute: AnyFunction;
  close: AnyFunction;
}

/** mysql2's RingQueue (lib/ring_queue.js), used for the pool's connection lists. */
export interface QueueLike<T> {
  readonly length: number;
  get(index: number): T | undefined;
}

/** Pool (lib/base/pool.js). */
export interface PoolLike extends EventEmitter {
  config: { connectionConfig: ConnectionConfigLike };
  getConnection: AnyFunction;
  query: AnyFunction;
  execute?: AnyFunction;
  _allConnections?: QueueLike<ConnectionLike> | undefined;
}

/** PoolCluster (lib/pool_cluster.js): one Pool per node. */
export interface PoolClusterLike extends EventEmitter {
  _nodes: Record<string, { pool: PoolLike } | undefined>;
  add: AnyFunction;
  of: AnyFunction;
}

/** mysql2/promise wrappers hold the core object. */
export interface PromiseConnectionLike {
  connection: ConnectionLike;
}
export interface PromisePoolLike {
  pool: PoolLike;
}
export interface PromisePoolClusterLike {
  poolCluster: PoolClusterLike;
}
