/**
 * The small structural shapes of the `mariadb` driver (3.x, promise API) that the wrapper relies on.
 * Core never imports mariadb at run time. The promise wrappers keep their inner objects in private
 * fields (#conn, #pool), so the wrapper works on the base Connection (lib/connection.js), where every
 * promise, pool and transaction path meets, and reaches it as described in promise-connection.ts.
 */
import type { EventEmitter } from 'node:events';

export type Resolve = (value: unknown) => void;
export type Reject = (error: unknown) => void;
export type AnyFunction = (...args: unknown[]) => unknown;

/** What the promise API hands to the base Connection: `{ sql, values, opts }`. */
export interface CmdParam {
  sql?: unknown;
  values?: unknown;
  opts?: Record<string | symbol, unknown> | undefined;
}

export interface ConnectionOptionsLike {
  host?: string | undefined;
  port?: number | undefined;
  socketPath?: string | undefined;
  user?: string | undefined;
  database?: string | undefined;
}

/** lib/misc/connection-information.js */
export interface ConnectionInfoLike {
  threadId?: number | null | undefined;
  /** SERVER_STATUS flags of the last OK packet (bit 0: in transaction). */
  status?: number | null | undefined;
  isMariaDB?: () => boolean;
}

/** The base Connection (lib/connection.js): (cmdParam, resolve, reject) methods. */
export interface BaseConnectionLike extends EventEmitter {
  opts: ConnectionOptionsLike;
  info: ConnectionInfoLike | null | undefined;
  socket?: EventEmitter | null | undefined;
  receiveQueue?: { peekFront(): unknown } | undefined;
  addCommand: AnyFunction;
  query(cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown;
  prepareExecute(cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown;
  batch(cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown;
  prepare(cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown;
  changeTransaction(cmdParam: CmdParam, resolve: Resolve, reject: Reject): unknown;
}

/** A prepared statement (PrepareResultPacket, or the PrepareWrapper of the prepare cache). */
export interface PreparedLike {
  readonly query: string;
  readonly id: number;
  execute: (values?: unknown, opts?: unknown, cb?: unknown, stack?: unknown) => unknown;
  isClose(): boolean;
}

/** ConnectionPromise (lib/connection-promise.js), also what pool.getConnection() resolves to. */
export interface PromiseConnectionLike {
  query: AnyFunction;
  execute: AnyFunction;
  batch: AnyFunction;
  queryStream: AnyFunction;
  beginTransaction: AnyFunction;
  on(event: string | symbol, listener: AnyFunction): unknown;
  off(event: string | symbol, listener: AnyFunction): unknown;
}

/** PoolPromise (lib/pool-promise.js): re-emits the base pool's 'acquire' with the base Connection. */
export interface PromisePoolLike extends EventEmitter {
  getConnection: AnyFunction;
  query: AnyFunction;
  execute: AnyFunction;
  batch: AnyFunction;
  totalConnections: AnyFunction;
}
