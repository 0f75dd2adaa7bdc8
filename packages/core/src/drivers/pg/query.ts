import { AsyncResource } from 'node:async_hooks';
import type { StatementHandle } from '../../capture/types.js';
import type { QuerytrailError } from '../../errors.js';
import { admit, fail, Refusal, succeed } from './begin.js';
import { type ClientState, clientState } from './client-state.js';
import { outcomeOfResult } from './outcome.js';
import { describeStatement } from './statement.js';
import { trackSubmittable } from './submittable.js';
import type { PgCallback, PgClientLike, PgQueryConfigLike, PgSubmittableLike } from './types.js';

/**
 * client.query, instrumented. Installed as an own property of each client; shared by all of them
 * (the per-client state is found through `this`). Every call is described and admitted synchronously
 * at the call site, so the context is the caller's, then sent by the original query.
 *
 * Sending is the last step of each path below (`state.query.call(...)`); when sync delivery arrives
 * (handle.ready set), that is the one place that waits for it.
 */
export function instrumentedQuery(this: PgClientLike, config?: unknown, values?: unknown, callback?: unknown): unknown {
  const state = clientState(this);
  if (state === undefined) return Object.getPrototypeOf(this).query.call(this, config, values, callback);
  if (typeof config === 'string') return queryText(state, this, config, values, callback);
  if (config !== null && typeof config === 'object') {
    if (typeof (config as PgSubmittableLike).submit === 'function') {
      return querySubmittable(state, this, config as PgSubmittableLike, values, callback);
    }
    return queryText(state, this, config, values, callback);
  }
  // An argument pg itself rejects (null, undefined, a number): let it say so.
  return state.query.call(this, config, values, callback);
}

/** The callback pg will use: the last truthy one of config.callback, values (if a function), callback. */
function effectiveCallback(config: unknown, values: unknown, callback: unknown): unknown {
  if (callback) return callback;
  if (typeof values === 'function') return values;
  return typeof config === 'object' ? (config as PgQueryConfigLike).callback || undefined : undefined;
}

function queryText(state: ClientState, client: PgClientLike, config: unknown, values: unknown, callback: unknown): unknown {
  const cb = effectiveCallback(config, values, callback);
  if (cb !== undefined && typeof cb !== 'function') return state.query.call(client, config, values, callback); // pg throws
  const cfg = typeof config === 'string' ? undefined : (config as PgQueryConfigLike);
  const params = values && typeof values !== 'function' ? values : cfg?.values;
  const start = describeStatement(state.db, state.prepared, cfg ? cfg.text : config, params, cfg?.name);
  const admission = admit(state.recorder, start);
  if (admission instanceof Refusal) return refuseText(admission.error, cb as PgCallback | undefined);

  if (cb !== undefined) {
    // pg calls back from the socket's context (for a pool client: whoever opened the connection).
    const bound = AsyncResource.bind(cb as PgCallback);
    const wrapped = admission === undefined ? bound : settlingCallback(admission, bound);
    return state.query.call(client, config, values, wrapped);
  }
  const promise = state.query.call(client, config, values);
  if (admission === undefined || !isThenable(promise)) return promise;
  return promise.then(
    (result) => {
      succeed(admission, outcomeOfResult(result));
      return result;
    },
    (err: unknown) => {
      fail(admission, err);
      throw err;
    },
  );
}

function settlingCallback(handle: StatementHandle, cb: PgCallback): PgCallback {
  return function settle(this: unknown, err: unknown, result?: unknown): unknown {
    if (err) fail(handle, err);
    else succeed(handle, outcomeOfResult(result));
    return cb.call(this, err, result);
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** A refused text query: never sent; the error takes the same path a driver error would. */
function refuseText(error: QuerytrailError, cb: PgCallback | undefined): unknown {
  if (cb === undefined) return Promise.reject(error);
  process.nextTick(cb, error);
  return undefined;
}

function querySubmittable(
  state: ClientState,
  client: PgClientLike,
  sub: PgSubmittableLike,
  values: unknown,
  callback: unknown,
): unknown {
  // pg-query-stream keeps text and values on its inner cursor, not on the stream.
  const source = sub.text === undefined && sub.name === undefined && sub.cursor != null ? sub.cursor : sub;
  const start = describeStatement(state.db, state.prepared, source.text, source.values, source.name);
  const admission = admit(state.recorder, start);
  if (admission instanceof Refusal) return refuseSubmittable(client, sub, values, callback, admission.error);
  trackSubmittable(sub, admission);
  return state.query.call(client, sub, values, callback);
}

/** A refused submittable: never submitted; its own handleError delivers the error (callback or 'error'). */
function refuseSubmittable(
  client: PgClientLike,
  sub: PgSubmittableLike,
  values: unknown,
  callback: unknown,
  error: QuerytrailError,
): PgSubmittableLike {
  if (!sub.callback) {
    // As pg does for a submittable before queueing it.
    if (typeof values === 'function') sub.callback = values;
    else if (callback) sub.callback = callback;
  }
  process.nextTick(deliverSubmittableError, sub, error, client.connection);
  return sub;
}

function deliverSubmittableError(sub: PgSubmittableLike, error: unknown, connection: unknown): void {
  sub.handleError?.(error, connection);
}
