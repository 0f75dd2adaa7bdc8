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
): ResultCallback {
  return function (this: unknown, ...args: unknown[]) {
    const err = args[0];
    if (err) fail(handle, err);
    else succeed(handle, outcomeOf(args[1], args[2]));
    return scope.runInAsyncScope(callback as (...a: unknown[]) => unknown, this, ...args);
  };
}

/**
 * Event mode (no callback: `.on('result')`, `.stream()`): counts rows and result headers as they are
 * emitted, records at 'error' / 'end', and emits in the caller's async context. Intercepting emit
 * (instead of adding an 'error' listener) keeps mysql2's own semantics for unhandled errors.
 */
export function trackEmitter(cmd: CommandLike, handle: StatementHandle | undefined, scope: AsyncResource): void {
  const emit = cmd.emit;
  let inResultSet = false;
  let returned: number | undefined;
  let affected: number | undefined;
  cmd.emit = function (this: CommandLike, event: string | symbol, ...args: unknown[]): boolean {
    if (handle !== undefined) {
      switch (event) {
        case 'fields':
          inResultSet = args[0] !== undefined;
          if (inResultSet) returned ??= 0;
          break;
        case 'result':
          if (inResultSet) {
            returned = (returned ?? 0) + 1;
            addRows(handle, 1);
          } else {
            const n = (args[0] as { affectedRows?: unknown } | null | undefined)?.affectedRows;
            if (typeof n === 'number') affected = (affected ?? 0) + n;
          }
          break;
        case 'error':
          fail(handle, args[0]);
          break;
        case 'end':
          succeed(handle, { rowsReturned: returned, rowsAffected: affected });
          break;
      }
    }
    return scope.runInAsyncScope(emit, this, event, ...args) as boolean;
  };
}
