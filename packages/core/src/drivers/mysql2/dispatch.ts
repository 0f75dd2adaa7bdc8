import { EventEmitter } from 'node:events';
import type { StatementHandle } from '../../capture/types.js';
import type { SendQueue } from '../send-queue.js';
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
 * With no `handle.ready` and nothing of this connection still waiting, the statement is sent at once
 * and mysql2's own return value (the Query / Execute command) goes back to the application; a
 * synchronous throw propagates as mysql2's would. Otherwise (sync delivery) it waits in the
 * connection's SendQueue, behind every statement admitted before it, until its attempt record is
 * durable: the application gets `standIn` (the Query command we already own) or a new emitter that
 * replays the real command's events, and a rejection (or a throw while sending) goes through
 * `refuseWith`, the same path as a blocked statement.
 */
export function dispatch(
  sends: SendQueue,
  handle: StatementHandle | undefined,
  send: () => CommandLike,
  refuseWith: (error: unknown, emitter: EventEmitter) => void,
  standIn?: CommandLike,
  ready: Promise<void> | undefined = handle?.ready,
): EventEmitter {
  if (ready === undefined && sends.empty) return send();
  const emitter: EventEmitter = standIn ?? new EventEmitter();
  sends.add(
    ready,
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
