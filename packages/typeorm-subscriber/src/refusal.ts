/**
 * Delivers an early refusal through TypeORM's own error path. The subscriber cannot throw a
 * QueryFailedError itself: the class belongs to the application's copy of TypeORM (0.3 and 1.x, or
 * two copies of one version, each have their own), and importing it from 'typeorm' here would bind
 * to whichever copy this package resolves, so `err instanceof QueryFailedError` would fail in the
 * app. Instead, the statement is queued as refused on the connection the query runner holds; when
 * TypeORM hands that statement to the connection (right after beforeQuery), the call fails with the
 * QueryBlockedError without sending anything, and TypeORM wraps it in its own QueryFailedError, logs
 * it as a failed query and tells afterQuery subscribers, exactly as for a block at the driver.
 */

const kRefusals = Symbol.for('querytrail.typeorm.refusals/1');

export type ConnectionKind = 'pg' | 'mysql2';

interface Refusal {
  readonly text: string;
  readonly params: unknown;
  readonly error: Error;
}

type QueryFn = (...args: unknown[]) => unknown;
type RefusingConnection = { query?: unknown; [kRefusals]?: Refusal[] };

/**
 * Queues the refusal of the next `query(text, params)` on `connection` (a pg Client, or a mysql2
 * connection, as TypeORM's query runner calls them). False when the connection cannot take it (then
 * the caller lets the driver decide instead).
 */
export function refuseOnConnection(connection: unknown, kind: ConnectionKind, text: string, params: unknown, error: Error): boolean {
  if (typeof connection !== 'object' || connection === null) return false;
  const c = connection as RefusingConnection;
  let queue = c[kRefusals];
  if (!queue) {
    const query = c.query;
    if (typeof query !== 'function') return false;
    const list: Refusal[] = [];
    queue = list;
    Object.defineProperty(c, kRefusals, { value: list, configurable: true });
    // Own property over the driver wrapper's (also an own property): pass-through unless refused.
    c.query = function (this: unknown, ...args: unknown[]) {
      if (list.length > 0) {
        const callback = typeof args[args.length - 1] === 'function' ? (args[args.length - 1] as (err: unknown) => void) : undefined;
        // pg: query(text, values) returns a promise; mysql2 (and its promise wrapper): query(sql, values?, callback).
        const index = kind === 'pg' || callback ? findRefusal(list, args, callback !== undefined) : -1;
        if (index >= 0) {
          const [refusal] = list.splice(index, 1);
          const error = (refusal as Refusal).error;
          if (callback) {
            process.nextTick(callback, error);
            return undefined;
          }
          return Promise.reject(error);
        }
      }
      return (query as QueryFn).apply(this, args);
    };
  }
  queue.push({ text, params, error });
  return true;
}

/**
 * Forgets a refusal TypeORM did not deliver (another subscriber threw after ours, so the statement was
 * never handed to the connection): the same statement sent later must reach the policy afresh.
 */
export function dropRefusal(connection: unknown, text: string, params: unknown): void {
  const queue = typeof connection === 'object' && connection !== null ? (connection as RefusingConnection)[kRefusals] : undefined;
  if (!queue || queue.length === 0) return;
  const index = queue.findIndex((r) => r.text === text && r.params === params);
  if (index >= 0) queue.splice(index, 1);
}

/** The refusal for this call: the same text (or `{ sql }` payload) and the same parameters array TypeORM passed. */
function findRefusal(list: readonly Refusal[], args: readonly unknown[], hasCallback: boolean): number {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first as { sql?: unknown } | null | undefined)?.sql;
  if (typeof text !== 'string') return -1;
  const valueArgs = hasCallback ? args.length - 2 : args.length - 1;
  const params = valueArgs >= 1 ? args[1] : undefined;
  return list.findIndex((r) => r.text === text && r.params === params);
}
