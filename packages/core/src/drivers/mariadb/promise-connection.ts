import type { StatementRecorder } from '../../capture/types.js';
import { instrumentBaseConnection } from './connection.js';
import { isBaseConnection } from './guards.js';
import { isInstrumented, markInstrumented } from './state.js';
import { patchQueryStream } from './stream.js';
import type { AnyFunction, BaseConnectionLike, PromiseConnectionLike } from './types.js';

const kProbe = Symbol('querytrail.mariadb.probe');

/**
 * The base Connection behind a ConnectionPromise (held in a private #conn). Its on()/off() forward to
 * that Connection, and an EventEmitter calls 'newListener' listeners with `this` set to itself: adding
 * and removing a listener for a private symbol hands it over without emitting anything else.
 */
export function baseConnectionOf(cp: PromiseConnectionLike): BaseConnectionLike | undefined {
  let base: unknown;
  const probe = function (this: unknown): void {
    base = this;
  };
  const noop: AnyFunction = () => undefined;
  cp.on('newListener', probe);
  try {
    cp.on(kProbe, noop);
    cp.off(kProbe, noop);
  } finally {
    cp.off('newListener', probe);
  }
  return isBaseConnection(base) ? base : undefined;
}

/** Instruments a ConnectionPromise (createConnection, pool.getConnection) through its base Connection. Idempotent. */
export function instrumentPromiseConnection(recorder: StatementRecorder, cp: PromiseConnectionLike): boolean {
  if (isInstrumented(cp)) return true;
  const base = baseConnectionOf(cp);
  if (!base) return false;
  const state = instrumentBaseConnection(recorder, base);
  markInstrumented(cp);
  patchQueryStream(recorder, cp, state, base);
  return true;
}
