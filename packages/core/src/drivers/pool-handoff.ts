import type { StatementHandle } from '../capture/types.js';

/** A statement begun by a pool before checkout (sync delivery); `adopted` once a connection took it over. */
export interface PoolBegun {
  readonly handle: StatementHandle;
  /** The statement text: a connection adopts the handle only for this text (see takeConnectionBegun). */
  readonly text: string;
  adopted: boolean;
}

/**
 * How the connection that runs a pool-begun statement finds it: through the checkout, not through the
 * statement's arguments. pg-pool's query() and mysql2's pool.execute() call the pool's own connect() /
 * getConnection() synchronously, and call the connection's query() / execute() synchronously inside
 * the checkout callback. So the pool marks the checkout its dispatch makes (dispatchBegun), the
 * instrumented connect() / getConnection() takes that mark (takeCheckoutBegun), and while its callback
 * runs the connection carries the statement (whileCheckedOut), which the connection's query or execute
 * takes (takeConnectionBegun). Anything the application wraps around the connection's query, even one
 * that rebuilds the arguments, still reaches the connection inside that callback.
 */
let dispatching: PoolBegun | undefined;

/** Runs the driver pool's query/execute for `begun`: the checkout it makes is marked as `begun`'s. */
export function dispatchBegun<R>(begun: PoolBegun, dispatch: () => R): R {
  const outer = dispatching;
  dispatching = begun;
  try {
    return dispatch();
  } finally {
    dispatching = outer;
  }
}

/** In the pool's connect()/getConnection(): the statement this checkout is for, if a dispatch made it. */
export function takeCheckoutBegun(): PoolBegun | undefined {
  const begun = dispatching;
  dispatching = undefined;
  return begun;
}

const byConnection = new WeakMap<object, PoolBegun>();

/** Runs the checkout callback with `connection` carrying `begun` (taken by its first statement). */
export function whileCheckedOut<R>(begun: PoolBegun, connection: object, callback: () => R): R {
  byConnection.set(connection, begun);
  try {
    return callback();
  } finally {
    if (byConnection.get(connection) === begun) byConnection.delete(connection);
  }
}

/**
 * In the connection's query/execute: the pool-begun statement it is running, if any (taken once). Only
 * for the same text: a wrapper of the application's that sends another statement first (a SET, say)
 * gets no handle for it, so that statement is begun and recorded on its own, and the pool's statement
 * is still there for the call that sends it.
 */
export function takeConnectionBegun(connection: object, text: unknown): PoolBegun | undefined {
  const begun = byConnection.get(connection);
  if (begun === undefined || begun.text !== text) return undefined;
  byConnection.delete(connection);
  return begun.adopted ? undefined : begun;
}
