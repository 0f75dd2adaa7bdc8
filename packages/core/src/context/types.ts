import type { Actor, OrmInfo, RequestInfo } from '../event/types.js';

/** Who is behind the statements run inside `runWithContext`. Values are frozen on entry. */
export interface AuditContext {
  actor?: Actor;
  request?: RequestInfo;
  /** Where the statement comes from: the app itself, a developer's workstation tool, a migration. */
  source?: 'app' | 'workstation' | 'migration' | (string & {});
  /** Set by ORM plugins: the model and operation behind the SQL. */
  orm?: OrmInfo;
  /** A change ticket that approves destructive statements (enforced by policy). */
  /** `actor`: the actor id the ticket was issued for (the policy checks it matches). */
  approval?: { ticket: string; approver?: string; expires?: string | Date; actor?: string };
  /** Break-glass: allowed, recorded as policy.override, alerted. */
  breakGlass?: { reason: string };
}

/** For apps that keep their user elsewhere (cls-hooked, a request-scoped container). */
export type ContextProvider = () => AuditContext | undefined;
