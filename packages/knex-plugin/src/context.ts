import { type AuditContext, currentContext, type OrmInfo, runWithContext } from '@querytrail/core';
import { ORM_NAME } from './orm-info.js';

export type ProvideContext = () => AuditContext | undefined;

/**
 * Kept for the registry's shape: the auditor itself completes a context that names no actor with its
 * `contextProvider` (cls-hooked apps), so entering a context only for `orm` never hides the app's actor.
 */
export function providerOf(_auditor: object): ProvideContext | undefined {
  return undefined;
}

function provided(provider: ProvideContext): AuditContext | undefined {
  try {
    return provider();
  } catch {
    return undefined; // as the auditor does: a failing provider never breaks a query
  }
}

/**
 * Runs `fn` with `orm` in the audit context. runWithContext merges, so the actor, request and source
 * the application set stay as they are. An ORM layered on knex (Objection, ...) that already named
 * its model keeps its own, more precise, orm.
 */
export function withOrm<R>(orm: OrmInfo, provider: ProvideContext | undefined, fn: () => R): R {
  const current = currentContext();
  if (current === undefined) {
    const fromApp = provider ? provided(provider) : undefined;
    return runWithContext(fromApp ? { ...fromApp, orm } : { orm }, fn);
  }
  if (current.orm !== undefined && current.orm.name !== ORM_NAME) return fn();
  return runWithContext({ orm }, fn);
}
