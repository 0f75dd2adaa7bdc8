import type { DbInfo } from '../../capture/types.js';
import { SendQueue } from '../send-queue.js';
import { fillDbInfo, isHandshakeDone } from './db-info.js';
import { warnRecorderFailure } from './warn.js';

/**
 * Marks instrumented objects (registered symbol: two copies of querytrail never wrap the same
 * object twice) and holds what is computed once per connection.
 */
export const kInstrumented = Symbol.for('querytrail.mysql2.instrumented');

export interface ConnectionState {
  /**
   * Computed once per connection. Before the handshake it is provisional (no connection_id, system
   * from config); at 'connect' it is completed in place and frozen. No statement on this connection
   * can finish successfully before that, so events never see it change after they were emitted.
   */
  readonly db: DbInfo;
  connected: boolean;
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

export function connectionState(target: object): ConnectionState | undefined {
  const s = (target as Marked)[kInstrumented];
  return typeof s === 'object' && s !== null ? (s as ConnectionState) : undefined;
}

export function createConnectionState(conn: Parameters<typeof fillDbInfo>[1]): ConnectionState {
  const state: ConnectionState = {
    db: fillDbInfo({ system: 'mysql', driver: 'mysql2' }, conn),
    connected: false,
    sends: new SendQueue(warnRecorderFailure),
  };
  if (isHandshakeDone(conn)) completeConnectionState(state, conn);
  return state;
}

export function completeConnectionState(state: ConnectionState, conn: Parameters<typeof fillDbInfo>[1]): void {
  if (state.connected) return;
  fillDbInfo(state.db, conn);
  Object.freeze(state.db.server);
  Object.freeze(state.db);
  state.connected = true;
}
