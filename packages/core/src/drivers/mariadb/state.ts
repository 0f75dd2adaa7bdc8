import type { DbInfo } from '../../capture/types.js';
import { SendQueue } from '../send-queue.js';
import { fillDbInfo, isHandshakeDone } from './db-info.js';
import type { BaseConnectionLike } from './types.js';
import { warnRecorderFailure } from './warn.js';

/** Marks instrumented objects (registered symbol: two copies of querytrail never wrap twice). */
export const kInstrumented = Symbol.for('querytrail.mariadb.instrumented');

export interface ConnectionState {
  /** Computed once per connection, frozen once the handshake is done. */
  readonly db: DbInfo;
  /** Statements admitted but waiting for their `ready` (sync delivery), in call order. */
  readonly sends: SendQueue;
}

type Marked = { [kInstrumented]?: unknown };

export function isInstrumented(target: object): boolean {
  return (target as Marked)[kInstrumented] !== undefined;
}

export function markInstrumented(target: object, value: unknown = true): void {
  Object.defineProperty(target, kInstrumented, { value, enumerable: false, configurable: true });
}

export function stateOf(target: object): ConnectionState | undefined {
  const s = (target as Marked)[kInstrumented];
  return typeof s === 'object' && s !== null ? (s as ConnectionState) : undefined;
}

export function createConnectionState(conn: BaseConnectionLike): ConnectionState {
  const db = fillDbInfo({ system: 'mariadb', driver: 'mariadb' }, conn);
  if (isHandshakeDone(conn)) {
    Object.freeze(db.server);
    Object.freeze(db);
  }
  return { db, sends: new SendQueue(warnRecorderFailure) };
}
