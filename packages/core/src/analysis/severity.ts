import type { StatementKind } from './types.js';

/**
 * Severity order used for "most severe" (index = rank). unknown is worst so that anything we could
 * not understand is never outranked by something we could; dcl (privileges) outranks ddl (schema),
 * which outranks admin (session/server settings), exec (dynamic SQL), write, tcl and read.
 */
export const SEVERITY: readonly StatementKind[] = ['read', 'tcl', 'write', 'exec', 'admin', 'ddl', 'dcl', 'unknown'];

const RANK: Readonly<Record<StatementKind, number>> = {
  read: 0,
  tcl: 1,
  write: 2,
  exec: 3,
  admin: 4,
  ddl: 5,
  dcl: 6,
  unknown: 7,
};

export function rank(kind: StatementKind): number {
  return RANK[kind];
}

export function mostSevere(a: StatementKind, b: StatementKind): StatementKind {
  return RANK[a] >= RANK[b] ? a : b;
}
