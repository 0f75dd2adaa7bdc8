import type { AuditContext } from '@querytrail/core';

/** Model operations that write every row when their `where` filters nothing. */
const BULK = new Set(['deleteMany', 'updateMany', 'updateManyAndReturn']);

function isEmptyWhere(where: unknown): boolean {
  if (where === undefined || where === null) return true;
  if (typeof where !== 'object') return false;
  return Object.values(where as Record<string, unknown>).every((v) => v === undefined);
}

/**
 * deleteMany / updateMany with no `where` (or `where: {}`): the early, model-level block. The driver
 * policy still judges the SQL; an approval or break-glass in the context defers to it.
 */
export function unfilteredBulk(operation: string, args: unknown, context: AuditContext | undefined): string | undefined {
  if (!BULK.has(operation)) return undefined;
  if (context?.approval !== undefined || context?.breakGlass !== undefined) return undefined;
  const where = (args as { where?: unknown } | null | undefined)?.where;
  return isEmptyWhere(where) ? `${operation} without a where clause would change every row` : undefined;
}
