import type { AsyncResource } from 'node:async_hooks';
import type { StatementHandle } from '../../capture/types.js';
import { addRows, fail, succeed } from './begin.js';
import { outcomeOf } from './outcome.js';
import type { CommandLike, ResultCallback } from './types.js';

/**
 * Callback mode: records the outcome, then runs the user's callback in the caller's async context
 * (mysql2 calls it from the socket's context, which belongs to whoever opened the connection).
 */
export function wrapCallback(
  callback: ResultCallback,
  handle: StatementHandle | undefined,
  scope: AsyncResource,
  onStatus?: StatusReporter,
): ResultCallback {
  return function (this: unknown, ...args: unknown[]) {
    const err = args[0];
    if (err) fail(handle, err);
    else {
      succeed(handle, outcomeOf(args[1], args[2]));
      // After the statement is settled: a snapshot is trusted only with no changer in flight.
      const status = okStatus(args[1]);
      if (status !== undefined) onStatus?.(status);
    }
    return scope.runInAsyncScope(callback as (...a: unknown[]) => unknown, this, ...args);
  };
}

/** Receives the server status flags of the OK packet that ended a statement. */
export type StatusReporter = ((status: number) => void) | undefined;

/**
 * The status flags of the OK packet that ended a statement, when mysql2 hands it over: the result
 * itself for a statement without rows (SET, INSERT…: a ResultSetHeader), or the last result of a
 * multi-statement text when that one had no rows. A statement ending in rows says nothing here.
 */
function okStatus(result: unknown): number | undefined {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  if (typeof last !== 'object' || last === null || Array.isArray(last)) return undefined;
  const status = (last as { serverStatus?: unknown }).serverStatus;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Event mode (no callback: `.on('result')`, `.stream()`): counts rows and result headers as they are
 * emitted, records at 'error' / 'end', and emits in the caller's async context. Intercepting emit
 * (instead of adding an 'error' listener) keeps mysql2's own semantics for unhandled errors.
 */
export function trackEmitter(cmd: CommandLike, handle: StatementHandle | undefined, scope: AsyncResource, onStatus?: StatusReporter): void {
  const emit = cmd.emit;
  let inResultSet = false;
  let returned: number | undefined;
  let affected: number | undefined;
  let status: number | undefined;
  cmd.emit = function (this: CommandLike, event: string | symbol, ...args: unknown[]): boolean {
    if (handle !== undefined) {
      switch (event) {
        case 'fields':
          inResultSet = args[0] !== undefined;
          if (inResultSet) {
            returned ??= 0;
            status = undefined; // rows came after the last OK packet seen
          }
          break;
        case 'result':
          if (inResultSet) {
            returned = (returned ?? 0) + 1;
            addRows(handle, 1);
          } else {
            const header = args[0] as { affectedRows?: unknown; serverStatus?: unknown } | null | undefined;
            const n = header?.affectedRows;
            if (typeof n === 'number') affected = (affected ?? 0) + n;
            status = typeof header?.serverStatus === 'number' ? header.serverStatus : undefined;
          }
          break;
        case 'error':
          fail(handle, args[0]);
          break;
        case 'end':
          succeed(handle, { rowsReturned: returned, rowsAffected: affected });
          if (status !== undefined) onStatus?.(status);
          break;
      }
    }
    return scope.runInAsyncScope(emit, this, event, ...args) as boolean;
  };
}
