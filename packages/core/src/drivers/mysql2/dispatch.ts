import { EventEmitter } from 'node:events';
import type { StatementHandle } from '../../capture/types.js';
import type { CommandLike } from './types.js';

/** Re-emits the real command's events on the stand-in handed to the application earlier. */
function forward(from: CommandLike, to: EventEmitter): void {
  const emit = from.emit;
  from.emit = function (this: CommandLike, event: string | symbol, ...args: unknown[]): boolean {
    const handled = emit.call(this, event, ...args);
    if (event !== 'error' || to.listenerCount('error') > 0) to.emit(event, ...args);
    return handled;
  };
}

/**
 * The single point where a begun statement is handed to mysql2.
 *
 * `handle.ready` is undefined today: the statement is sent at once and mysql2's own return value
 * (the Query / Execute command) goes back to the application; a synchronous throw propagates as
 * mysql2's would. When sync delivery sets `ready`, sending waits for it: the application gets
 * `standIn` (the Query command we already own) or a new emitter that replays the real command's
 * events, and a rejection (or a throw while sending) goes through `refuseWith`, the same path as a
 * blocked statement.
 */
export function dispatch(
  handle: StatementHandle | undefined,
  send: () => CommandLike,
  refuseWith: (error: unknown, emitter: EventEmitter) => void,
  standIn?: CommandLike,
): EventEmitter {
  const ready = handle?.ready;
  if (ready === undefined) return send();
  const emitter: EventEmitter = standIn ?? new EventEmitter();
  ready.then(
    () => {
      try {
        const cmd = send();
        if (cmd !== emitter) forward(cmd, emitter);
      } catch (error) {
        refuseWith(error, emitter);
      }
    },
    (error: unknown) => refuseWith(error, emitter),
  );
  return emitter;
}
