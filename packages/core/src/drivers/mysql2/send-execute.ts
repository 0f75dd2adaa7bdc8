import { statusReporter } from './ok-status.js';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import type { StatementRecorder } from '../../capture/types.js';
import { beginStatement, fail } from './begin.js';
import { dispatch } from './dispatch.js';
import type { PoolBegun } from '../pool-handoff.js';
import { refuse } from './refuse.js';
import type { ConnectionState } from './state.js';
import { trackEmitter, wrapCallback } from './track.js';
import type { AnyFunction, CommandLike, ResultCallback } from './types.js';

export interface ExecuteCall {
  /** The template and the bound values, as the application gave them. */
  text: unknown;
  params: unknown;
  preparedName?: string | undefined;
  /** The mysql2 Connection the statement goes to (identity only). */
  connection: object;
  /** Where the callback sits in `args` (-1: none, event mode). */
  cbIndex: number;
  /** Begun by the pool (pool-execute.ts), which calls only once its attempt is durable. */
  begun?: PoolBegun | undefined;
}

/**
 * Shared by connection.execute and statement.execute: begin at the call site, refuse through the
 * driver's path (a stand-in emitter that errors and ends, so pool.execute still releases), or send.
 */
export function sendExecute(
  recorder: StatementRecorder,
  original: AnyFunction,
  self: unknown,
  args: unknown[],
  call: ExecuteCall,
  state: ConnectionState,
): unknown {
  const { cbIndex } = call;
  const callback = cbIndex >= 0 ? (args[cbIndex] as ResultCallback) : undefined;
  const scope = new AsyncResource('querytrail.mysql2.execute');
  let handle: ReturnType<typeof beginStatement>;
  const begun = call.begun;
  const adopted = begun !== undefined && !begun.adopted;
  if (adopted) {
    begun.adopted = true;
    handle = begun.handle;
    handle.adoptConnection?.(state.db, call.connection);
  } else {
    try {
      handle = beginStatement(recorder, call.text, call.params, state.db, call.connection, call.preparedName);
    } catch (blocked) {
      const standIn = new EventEmitter();
      refuse(standIn, callback, blocked, scope);
      return standIn;
    }
  }
  const onStatus = statusReporter(recorder, call.connection);
  if (callback) args[cbIndex] = wrapCallback(callback, handle, scope, onStatus);
  const send = (): CommandLike => {
    const cmd = original.apply(self, args) as CommandLike;
    if (!callback) trackEmitter(cmd, handle, scope, onStatus);
    return cmd;
  };
  try {
    return dispatch(
      state.sends,
      handle,
      send,
      (error, emitter) => refuse(emitter, cbIndex >= 0 ? (args[cbIndex] as ResultCallback) : undefined, error, scope),
      undefined,
      adopted ? undefined : handle?.ready, // an adopted statement's attempt is already durable
    );
  } catch (error) {
    fail(handle, error);
    throw error;
  }
}
