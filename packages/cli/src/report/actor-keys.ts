import type { Actor, QuerytrailEvent } from '@querytrail/core';

export const NO_ACTOR = '(none)';

/** A merged ORM statement's callers carry only an id: keyed so the builder can find their type later. */
export const CALLER_PREFIX = 'caller\u0000';

/**
 * An id as it appears in a key: quoted (JSON) when it could be read as key syntax (` via `, or the
 * `(none)` of no actor), so an actor id such as "alice via human:mallory" cannot pass for impersonation.
 */
export function keyId(id: string): string {
  return / via |^\(none\)$|^".*"$/.test(id) ? JSON.stringify(id) : id;
}

function keyOf(actor: Actor): string {
  const own = `${actor.type}:${keyId(actor.id)}`;
  return actor.impersonator ? `${own} via ${actor.impersonator.type ?? 'unknown'}:${keyId(actor.impersonator.id)}` : own;
}

/**
 * Every actor a statement is credited to: its own (with who impersonated it, if anyone), and each
 * other actor whose ORM call it served (Prisma merges concurrent findUnique calls into one statement).
 */
export function creditedActors(e: QuerytrailEvent): string[] {
  const keys = [e.actor ? keyOf(e.actor) : NO_ACTOR];
  for (const c of e.orm?.callers ?? []) {
    if (c.actor_id === undefined || c.actor_id === e.actor?.id) continue;
    const key = `${CALLER_PREFIX}${c.actor_id}`;
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

export function primaryActor(e: QuerytrailEvent): string {
  return e.actor ? keyOf(e.actor) : NO_ACTOR;
}
