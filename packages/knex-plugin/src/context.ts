import { currentContext, type OrmInfo, runWithContext } from '@querytrail/core';
import { ORM_NAME } from './orm-info.js';

/**
 * Runs `fn` with `orm` in the audit context. runWithContext merges, so the actor, request and source
 * the application set stay as they are. An ORM layered on knex (Objection, ...) that already named
 * its model keeps its own, more precise, orm.
 */
export function withOrm<R>(orm: OrmInfo, fn: () => R): R {
  const current = currentContext();
  // The auditor completes a context that names no actor from its contextProvider (cls-hooked apps).
  if (current === undefined) return runWithContext({ orm }, fn);
  if (current.orm !== undefined && current.orm.name !== ORM_NAME) return fn();
  return runWithContext({ orm }, fn);
}
