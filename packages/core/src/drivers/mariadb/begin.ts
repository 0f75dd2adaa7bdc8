import { AsyncResource } from 'node:async_hooks';
import type { StatementHandle, StatementOutcome, StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { outcomeOf } from './outcome.js';
import type { ConnectionState } from './state.js';
import type { Reject, Resolve } from './types.js';
import { warnRecorderFailure } from './warn.js';

/** mariadb values: an array, a single scalar, or a named-placeholder object. */
export function paramsOf(values: unknown): readonly unknown[] | undefined {
  if (values === undefined || values === null) return undefined;
  return Array.isArray(values) ? values : [values];
}

export interface Statement {
  text: unknown;
  values: unknown;
  preparedName?: string | undefined;
}

/** SERVER_STATUS_NO_BACKSLASH_ESCAPES in the status flags the driver keeps from the last OK/EOF packet. */
const NO_BACKSLASH_ESCAPES = 512;

/** Throws only a QuerytrailError (never send); any other recorder failure is a warning. */
function begin(recorder: StatementRecorder, s: Statement, state: ConnectionState, connection: object): StatementHandle | undefined {
  const start = {
    text: typeof s.text === 'string' ? s.text : undefined,
    params: paramsOf(s.values),
    preparedName: s.preparedName,
    db: state.db,
    connection,
  };
  try {
    // The driver's live status snapshot says how the session lexes strings as of its last response; the
    // auditor trusts it only when no statement that could change that is still in flight.
    const status = (connection as { info?: { status?: unknown } | null }).info?.status;
    if (typeof status === 'number') recorder.sessionSetting?.(connection, 'no_backslash_escapes', (status & NO_BACKSLASH_ESCAPES) !== 0);
    return recorder.begin(start);
  } catch (error) {
    if (error instanceof QuerytrailError) throw error;
    warnRecorderFailure(error, { recorder, operation: 'recorder.begin', start, unaudited: true });
    return undefined;
  }
}

/** mariadb's SqlError carries the server error number in errno (e.g. 1146). */
function errnoOf(error: unknown): string | undefined {
  const errno = (error as { errno?: unknown } | null | undefined)?.errno;
  return typeof errno === 'number' ? String(errno) : undefined;
}

export function succeed(handle: StatementHandle | undefined, outcome: StatementOutcome | undefined): void {
  try {
    handle?.succeed(outcome);
  } catch (error) {
    warnRecorderFailure(error);
  }
}

export function fail(handle: StatementHandle | undefined, error: unknown): void {
  try {
    handle?.fail(error, errnoOf(error));
  } catch (e) {
    warnRecorderFailure(e);
  }
}

export function addRows(handle: StatementHandle | undefined, count: number): void {
  try {
    handle?.addRows(count);
  } catch (error) {
    warnRecorderFailure(error);
  }
}

/**
 * The single point where a (cmdParam, resolve, reject) statement is begun and handed to the driver.
 * Begun synchronously at the call site. A refusal is delivered through `reject` (the driver's own
 * error path), asynchronously and in the caller's context, and nothing is sent. With a pending
 * `ready` (sync delivery), or anything of this connection still waiting, the statement waits in
 * the connection's SendQueue so the wire order is the call order.
 */
export function recordAndSend(
  recorder: StatementRecorder,
  state: ConnectionState,
  connection: object,
  statement: Statement,
  resolve: Resolve,
  reject: Reject,
  send: (resolve: Resolve, reject: Reject) => unknown,
): void {
  let handle: StatementHandle | undefined;
  try {
    handle = begin(recorder, statement, state, connection);
  } catch (blocked) {
    const scope = new AsyncResource('querytrail.mariadb.refuse');
    process.nextTick(() => scope.runInAsyncScope(reject, undefined, blocked));
    return;
  }
  const ok: Resolve = (result) => {
    succeed(handle, outcomeOf(result));
    resolve(result);
  };
  const ko: Reject = (error) => {
    fail(handle, error);
    reject(error);
  };
  const ready = handle?.ready;
  if (ready === undefined && state.sends.empty) {
    try {
      send(ok, ko);
    } catch (error) {
      fail(handle, error);
      throw error;
    }
    return;
  }
  state.sends.add(
    ready,
    () => {
      try {
        send(ok, ko);
      } catch (error) {
        ko(error);
      }
    },
    // The capture records the refusal itself (db.query.blocked or a failed attempt).
    (error) => reject(error),
  );
}
