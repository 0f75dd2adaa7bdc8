import { AsyncResource } from 'node:async_hooks';
import type { StatementHandle } from '../../capture/types.js';
import { addRows, fail, succeed } from './begin.js';
import { isAffectingCommand, parseCommandTag } from './outcome.js';
import type { PgHandler, PgSubmittableLike } from './types.js';

const kTracker = Symbol('querytrail.pg.submittable');

/**
 * One submitted query object (pg.Query, pg-cursor, pg-query-stream, ...). pg drives every submittable
 * through the same handle* methods, so the instance's own handlers are wrapped: rows are counted as
 * they arrive, the outcome is taken at ReadyForQuery or error, and every handler runs in the async
 * scope of the client.query call, so cursor/stream callbacks and events see the caller's context.
 */
interface Tracker {
  readonly handle: StatementHandle | undefined;
  readonly scope: AsyncResource;
  described: boolean;
  affected: number | undefined;
  readonly rowDescription: PgHandler | undefined;
  readonly dataRow: PgHandler | undefined;
  readonly portalSuspended: PgHandler | undefined;
  readonly commandComplete: PgHandler | undefined;
  readonly emptyQuery: PgHandler | undefined;
  readonly error: PgHandler | undefined;
  readonly readyForQuery: PgHandler | undefined;
}

type Tracked = PgSubmittableLike & { [kTracker]: Tracker };

function fn(value: unknown): PgHandler | undefined {
  return typeof value === 'function' ? (value as PgHandler) : undefined;
}

/** Wraps the instance's handlers. `handle` is undefined when the recorder failed (scope binding only). */
export function trackSubmittable(sub: PgSubmittableLike, handle: StatementHandle | undefined): void {
  const t: Tracker = {
    handle,
    scope: new AsyncResource('querytrail.pg.query'),
    described: false,
    affected: undefined,
    rowDescription: fn(sub.handleRowDescription),
    dataRow: fn(sub.handleDataRow),
    portalSuspended: fn(sub.handlePortalSuspended),
    commandComplete: fn(sub.handleCommandComplete),
    emptyQuery: fn(sub.handleEmptyQuery),
    error: fn(sub.handleError),
    readyForQuery: fn(sub.handleReadyForQuery),
  };
  (sub as Tracked)[kTracker] = t;
  if (t.rowDescription) sub.handleRowDescription = onRowDescription;
  if (t.dataRow && handle) sub.handleDataRow = onDataRow;
  if (t.portalSuspended) sub.handlePortalSuspended = onPortalSuspended;
  if (t.commandComplete) sub.handleCommandComplete = onCommandComplete;
  if (t.emptyQuery) sub.handleEmptyQuery = onEmptyQuery;
  if (t.error) sub.handleError = onError;
  if (t.readyForQuery) sub.handleReadyForQuery = onReadyForQuery;
}

// Shared wrappers (no per-query closures): `this` is the submittable, as pg calls them as methods.

function onRowDescription(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  t.described = true;
  return t.scope.runInAsyncScope(t.rowDescription!, this, ...args);
}

/** Hot (once per row): counts only; no async scope switch, the row is not handed to user code here. */
function onDataRow(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  addRows(t.handle!, 1);
  return t.dataRow!.apply(this, args);
}

function onPortalSuspended(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  return t.scope.runInAsyncScope(t.portalSuspended!, this, ...args);
}

function onCommandComplete(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  const tag = parseCommandTag((args[0] as { text?: unknown } | undefined)?.text);
  if (tag && isAffectingCommand(tag.command)) t.affected = (t.affected ?? 0) + (tag.count ?? 0);
  return t.scope.runInAsyncScope(t.commandComplete!, this, ...args);
}

function onEmptyQuery(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  return t.scope.runInAsyncScope(t.emptyQuery!, this, ...args);
}

function onError(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  if (t.handle) fail(t.handle, args[0]);
  return t.scope.runInAsyncScope(t.error!, this, ...args);
}

function onReadyForQuery(this: PgSubmittableLike, ...args: unknown[]): unknown {
  const t = (this as Tracked)[kTracker];
  try {
    return t.scope.runInAsyncScope(t.readyForQuery!, this, ...args);
  } finally {
    // After the original: pg.Query turns a row-parse failure into handleError here (fail wins).
    if (t.handle) {
      const outcome =
        t.described || t.affected !== undefined
          ? {
              ...(t.described ? { rowsReturned: 0 } : {}),
              ...(t.affected !== undefined ? { rowsAffected: t.affected } : {}),
            }
          : undefined;
      succeed(t.handle, outcome);
    }
  }
}
