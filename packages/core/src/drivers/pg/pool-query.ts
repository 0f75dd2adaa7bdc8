import type { DbInfo } from '../../event/types.js';
import type { StatementRecorder } from '../../capture/types.js';
import { JournalUnavailableError, QuerytrailError } from '../../errors.js';
import { bindToCaller } from '../bind-to-caller.js';
import { dispatchBegun, notSentAsRecorded, type PoolBegun } from '../pool-handoff.js';
import { admit, fail, Refusal } from './begin.js';
import type { PgCallback, PgPoolLike, PgQueryConfigLike } from './types.js';

/**
 * pool.query in sync (or auto) delivery. The statement is begun at the call site, as always, but by
 * the pool, before a connection is checked out: its attempt record goes to the journal while the
 * statement waits, and only once it is durable does pg-pool check out a client and send it. A pool
 * connection is never held idle during the journal's fdatasync (which takes milliseconds), and every
 * statement waiting at that moment shares the same fdatasync (group commit).
 *
 * The client that runs it adopts the handle (query.ts) instead of beginning the statement again, found
 * through the checkout (drivers/pool-handoff.ts): the db.query record names that client's connection;
 * the attempt names the database without a connection_id (none was chosen yet). Anything this path
 * does not handle (a submittable, a named prepared statement, no connection seen yet, async delivery)
 * goes through pg-pool unchanged.
 */
type PoolQueryFn = (this: PgPoolLike, text?: unknown, values?: unknown, cb?: unknown) => unknown;

export interface PoolQueryState {
  readonly recorder: StatementRecorder;
  readonly query: PoolQueryFn;
  /** The database the pool's clients connect to (from the first connected client), without connection_id. */
  db: DbInfo | undefined;
}

function isPlainConfig(value: unknown): value is PgQueryConfigLike {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { submit?: unknown }).submit !== 'function';
}

export function poolQuery(state: PoolQueryState, pool: PgPoolLike, text: unknown, values: unknown, cb: unknown): unknown {
  if (typeof values === 'function') {
    cb = values;
    values = undefined;
  }
  const cfg = isPlainConfig(text) ? text : undefined;
  if (
    !state.recorder.evidenceFirst ||
    state.db === undefined ||
    (typeof text !== 'string' && cfg === undefined) ||
    (cfg !== undefined && (cfg.name !== undefined || typeof cfg.text !== 'string' || cfg.callback !== undefined)) ||
    (cb !== undefined && typeof cb !== 'function')
  ) {
    return state.query.call(pool, text, values, cb);
  }
  const sql = cfg ? (cfg.text as string) : (text as string);
  const params = values !== undefined && values !== null ? values : cfg?.values;
  // Values that are not an array (pg rejects them when it builds the query): the client path has them.
  if (params !== undefined && params !== null && !Array.isArray(params)) return state.query.call(pool, text, values, cb);
  // The values recorded are the values sent: a copy, taken now, that the application cannot change
  // while the statement waits for its attempt record.
  const ownValues = Array.isArray(params) ? params.slice() : undefined;
  const admission = admit(state.recorder, { text: sql, params: ownValues, db: state.db });
  if (admission === undefined) return state.query.call(pool, text, values, cb); // our own failure: unaudited, as before

  const P = (pool as { Promise?: PromiseConstructor }).Promise ?? Promise;
  let reply: PgCallback;
  let result: unknown;
  if (typeof cb === 'function') {
    reply = bindToCaller(cb as PgCallback);
  } else {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    result = new P((res, rej) => {
      resolve = res;
      reject = rej;
    });
    reply = (err, res) => (err ? reject(err) : resolve(res));
  }
  // Once: pg-pool may call back synchronously (an ended pool), and a throw from the application's
  // callback then reaches send()'s catch, which must not answer a second time.
  let replied = false;
  const done: PgCallback = (err, res) => {
    if (replied) return;
    replied = true;
    reply(err, res);
  };
  if (admission instanceof Refusal) {
    process.nextTick(done, admission.error);
    return result;
  }
  const begun: PoolBegun = { handle: admission, text: sql, values: ownValues, adopted: false };
  // Copies taken now: what the application does to its config while the attempt is synced changes
  // neither what is sent nor what was recorded.
  const sentText: unknown = cfg === undefined ? sql : { ...cfg, text: sql, values: ownValues };
  const sentValues = cfg === undefined ? ownValues : undefined;
  const send = (): void => {
    try {
      dispatchBegun(pool, begun, () =>
        state.query.call(pool, sentText, sentValues, (err: unknown, res?: unknown) => {
          // No client took it over. With an error: no checkout (pool ended, connection failed), so it
          // was never sent. Without: the client was handed something else, recorded on its own.
          if (!begun.adopted) fail(admission, err ?? notSentAsRecorded());
          done(err, res);
        }),
      );
    } catch (err) {
      if (!begun.adopted) fail(admission, err);
      done(err);
    }
  };
  const ready = admission.ready;
  if (ready === undefined) send();
  else ready.then(send, (error: unknown) => done(refusalError(error)));
  return result;
}

function refusalError(error: unknown): QuerytrailError {
  if (error instanceof QuerytrailError) return error;
  return new JournalUnavailableError('querytrail could not store the attempt record; the statement was not sent', { cause: error });
}
