import type { StatementHandle } from '../capture/types.js';
import { QuerytrailError } from '../errors.js';

/** A statement begun by a pool before checkout (sync delivery); `adopted` once a connection took it over. */
export interface PoolBegun {
  readonly handle: StatementHandle;
  /** The statement text and values as recorded: a connection adopts the handle only for exactly these. */
  readonly text: string;
  readonly values: readonly unknown[] | undefined;
  adopted: boolean;
}

/**
 * How the connection that runs a pool-begun statement finds it: through the checkout, not through the
 * statement's arguments. pg-pool's query() and mysql2's pool.execute() call the pool's own connect() /
 * getConnection() synchronously, and call the connection's query() / execute() synchronously inside
 * the checkout callback. So the pool marks the checkout its dispatch makes (dispatchBegun), the
 * instrumented connect() / getConnection() takes that mark (takeCheckoutBegun), and while its callback
 * runs the connection carries the statement (whileCheckedOut), which the connection's query or execute
 * takes (takeConnectionBegun) when it is handed exactly the text and values recorded. A wrapper of the
 * application's around the connection's query that rebuilds the arguments (same values) still adopts;
 * one that changes them gets a record of what it really sent, and the pool's record says so.
 */
let dispatching: { pool: object; begun: PoolBegun } | undefined;

/** Runs `pool`'s own query/execute for `begun`: the checkout it makes from `pool` is marked as `begun`'s. */
export function dispatchBegun<R>(pool: object, begun: PoolBegun, dispatch: () => R): R {
  const outer = dispatching;
  dispatching = { pool, begun };
  try {
    return dispatch();
  } finally {
    dispatching = outer;
  }
}

/**
 * In `pool`'s connect()/getConnection(): the statement this checkout is for, if that pool's own dispatch
 * made it (a checkout from another pool, by a wrapper of the application's, say, takes nothing).
 */
export function takeCheckoutBegun(pool: object): PoolBegun | undefined {
  if (dispatching === undefined || dispatching.pool !== pool) return undefined;
  const { begun } = dispatching;
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
 * for exactly the text and values recorded: a wrapper of the application's that sends another
 * statement first (a SET, say), or changes the text or the values, gets no handle, so what it sends is
 * begun and recorded as itself, and the pool's record says it was not sent as recorded.
 */
export function takeConnectionBegun(connection: object, text: unknown, values: unknown): PoolBegun | undefined {
  const begun = byConnection.get(connection);
  if (begun === undefined || begun.text !== text || !sameValues(begun.values, values)) return undefined;
  byConnection.delete(connection);
  return begun.adopted ? undefined : begun;
}

function sameValues(recorded: readonly unknown[] | undefined, sent: unknown): boolean {
  if (recorded === undefined || recorded.length === 0) return sent === undefined || sent === null || (Array.isArray(sent) && sent.length === 0);
  if (!Array.isArray(sent) || sent.length !== recorded.length) return false;
  for (let i = 0; i < sent.length; i++) if (!Object.is(sent[i], recorded[i])) return false;
  return true;
}

/**
 * What a pool-begun statement's record says when no connection took it over although the driver's
 * pool reported no error: the connection was sent something else (a wrapper of the application's
 * changed the text or the values, or sent it outside the checkout), and recorded that on its own.
 */
export function notSentAsRecorded(): QuerytrailError {
  return new QuerytrailError(
    'QT_ERR_NOT_SENT_AS_RECORDED',
    'not sent as recorded here: the connection was handed a different statement (text, values or timing changed by a wrapper), which has its own record',
  );
}
