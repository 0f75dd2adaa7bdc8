import { AsyncResource } from 'node:async_hooks';
import { bindToCaller } from '../bind-to-caller.js';
import type { StatementHandle } from '../../capture/types.js';
import { JournalUnavailableError, QuerytrailError } from '../../errors.js';
import { type Admission, admit, fail, Refusal, succeed } from './begin.js';
import { takeConnectionBegun } from '../pool-handoff.js';
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
 * Sync delivery (handle.ready set): the statement is handed to pg only once its attempt record is
 * durable; if that fails, the error takes the driver's error path and the statement is never sent.
 * Waiting statements sit in the client's SendQueue, so later statements on the same client never
 * overtake them. With no `ready` and nothing waiting, the send stays synchronous, as pg's own.
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
  const begun = takeConnectionBegun(client, cfg === undefined ? config : cfg.text, values && typeof values !== 'function' ? values : cfg?.values);
  let admission: Admission;
  let ready: Promise<void> | undefined;
  if (begun !== undefined) {
    // Begun by the pool (pool-query.ts), which called us only once its attempt was durable.
    begun.adopted = true;
    admission = begun.handle;
    admission.adoptConnection?.(state.db.get(), client);
  } else {
    const params = values && typeof values !== 'function' ? values : cfg?.values;
    const start = describeStatement(client, state.db, state.prepared, cfg ? cfg.text : config, params, cfg?.name);
    admission = admit(state.recorder, start);
    if (admission instanceof Refusal) return refuseText(admission.error, cb as PgCallback | undefined);
    ready = admission?.ready;
  }
  if (ready === undefined && state.sends.empty) return sendText(state, client, config, values, cb as PgCallback | undefined, admission);
  return deferText(state, client, snapshot(config), values, cb as PgCallback | undefined, admission, ready);
}

/** Hands a text query to pg now; returns what pg returns (undefined in callback mode, else a promise). */
function sendText(
  state: ClientState,
  client: PgClientLike,
  config: unknown,
  values: unknown,
  cb: PgCallback | undefined,
  admission: StatementHandle | undefined,
): unknown {
  if (cb !== undefined) {
    // pg calls back from the socket's context (for a pool client: whoever opened the connection).
    // One function per statement: it records the outcome, then calls back in the caller's context.
    const wrapped = admission === undefined ? bindToCaller(cb) : settlingCallback(admission, cb);
    return state.query.call(client, config, values, wrapped);
  }
  if (admission === undefined) return state.query.call(client, config, values);
  // Promise mode, through pg's callback: two promises per statement (ours and the .catch that fixes
  // the stack, as pg has) instead of pg's two plus a .then of ours. Same Promise class, same stack fix.
  const P = typeof client._Promise === 'function' ? client._Promise : Promise;
  let settle: PgCallback = () => {};
  const promise = new P((resolve, reject) => {
    settle = (err, result) => {
      if (err) {
        fail(admission, err);
        reject(err);
      } else {
        succeed(admission, outcomeOfResult(result));
        resolve(result);
      }
    };
  });
  try {
    state.query.call(client, config, values, settle);
  } catch (err) {
    // pg refused the arguments synchronously, as it would have in promise mode: so do we.
    fail(admission, err);
    throw err;
  }
  return promise.catch(withAppStack);
}

/**
 * As pg does in promise mode: the error's stack is taken again in a promise continuation, where V8's
 * async stack trace leads back to the application's await instead of to TCP.onStreamRead.
 */
function withAppStack(err: unknown): never {
  if (err instanceof Error) Error.captureStackTrace(err);
  throw err;
}

/**
 * A text query that must wait (its own `ready`, or earlier statements still waiting): returns at once
 * what pg would return (undefined with a callback, else a promise of the client's Promise class) and
 * sends when the client's SendQueue reaches it. The callback keeps the caller's async context.
 */
function deferText(
  state: ClientState,
  client: PgClientLike,
  config: unknown,
  values: unknown,
  cb: PgCallback | undefined,
  admission: StatementHandle | undefined,
  ready: Promise<void> | undefined,
): unknown {
  if (cb !== undefined) {
    const bound = bindToCaller(cb);
    state.sends.add(
      ready,
      () => {
        try {
          sendText(state, client, config, values, bound, admission);
        } catch (err) {
          if (admission !== undefined) fail(admission, err);
          process.nextTick(bound, err);
        }
      },
      (error) => process.nextTick(bound, refusalError(error)),
    );
    return undefined;
  }
  const P = typeof client._Promise === 'function' ? client._Promise : Promise;
  return new P((resolve, reject) => {
    state.sends.add(
      ready,
      () => {
        try {
          resolve(sendText(state, client, config, values, undefined, admission));
        } catch (err) {
          if (admission !== undefined) fail(admission, err);
          reject(err);
        }
      },
      (error) => reject(refusalError(error)),
    );
  });
}

/**
 * pg reads a config object's fields when query() is called; a deferred send reads them later, so a
 * plain config object is copied at the call site (an application may reuse and mutate one object).
 */
function snapshot(config: unknown): unknown {
  if (typeof config !== 'object' || config === null) return config;
  const proto = Object.getPrototypeOf(config);
  return proto === Object.prototype || proto === null ? { ...(config as object) } : config;
}

/**
 * The error of a statement whose attempt could not be stored. The contract says JournalUnavailableError;
 * anything else is wrapped so that it still reads as a refusal (and pg-pool keeps the healthy client).
 */
function refusalError(error: unknown): QuerytrailError {
  if (error instanceof QuerytrailError) return error;
  return new JournalUnavailableError('querytrail could not store the attempt record; the statement was not sent', { cause: error });
}

function settlingCallback(handle: StatementHandle, cb: PgCallback): PgCallback {
  const scope = new AsyncResource('querytrail.callback');
  return function settle(this: unknown, err: unknown, result?: unknown): unknown {
    if (err) fail(handle, err);
    else succeed(handle, outcomeOfResult(result));
    return scope.runInAsyncScope(cb, this, err, result);
  };
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
  const start = describeStatement(client, state.db, state.prepared, source.text, source.values, source.name);
  const admission = admit(state.recorder, start);
  if (admission instanceof Refusal) return refuseSubmittable(client, sub, values, callback, admission.error);
  trackSubmittable(sub, admission);
  const ready = admission?.ready;
  if (ready === undefined && state.sends.empty) return state.query.call(client, sub, values, callback);
  // Deferred: pg returns the submittable itself and takes its callback at once; do the same now.
  adoptCallback(sub, values, callback);
  state.sends.add(
    ready,
    () => {
      try {
        state.query.call(client, sub, values, callback);
      } catch (err) {
        process.nextTick(deliverSubmittableError, sub, err, client.connection);
      }
    },
    (error) => process.nextTick(deliverSubmittableError, sub, refusalError(error), client.connection),
  );
  return sub;
}

/** As pg does for a submittable before queueing it. */
function adoptCallback(sub: PgSubmittableLike, values: unknown, callback: unknown): void {
  if (sub.callback) return;
  if (typeof values === 'function') sub.callback = values;
  else if (callback) sub.callback = callback;
}

/** A refused submittable: never submitted; its own handleError delivers the error (callback or 'error'). */
function refuseSubmittable(
  client: PgClientLike,
  sub: PgSubmittableLike,
  values: unknown,
  callback: unknown,
  error: QuerytrailError,
): PgSubmittableLike {
  adoptCallback(sub, values, callback);
  process.nextTick(deliverSubmittableError, sub, error, client.connection);
  return sub;
}

function deliverSubmittableError(sub: PgSubmittableLike, error: unknown, connection: unknown): void {
  sub.handleError?.(error, connection);
}
