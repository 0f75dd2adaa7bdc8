import type { AsyncResource } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import type { ResultCallback } from './types.js';

/**
 * Delivers a refusal (QueryBlockedError, ...) through the driver's own error path, asynchronously
 * as mysql2 would: the callback (mysql2/promise rejects through it), else the command's 'error'
 * event; then 'end', which is what pool.query / pool.execute wait for to release the connection.
 * The statement itself is never sent, so the connection stays usable.
 */
export function refuse(
  emitter: EventEmitter,
  callback: ResultCallback | null | undefined,
  error: unknown,
  scope: AsyncResource,
): void {
  process.nextTick(() => {
    scope.runInAsyncScope(() => {
      try {
        if (typeof callback === 'function') callback(error);
        else if (emitter.listenerCount('error') > 0) emitter.emit('error', error);
        else process.emitWarning(error instanceof Error ? error : String(error));
      } finally {
        emitter.emit('end');
      }
    });
  });
}
