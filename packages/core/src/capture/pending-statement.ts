import type { Analysis } from '../analysis/index.js';
import type { AuditContext } from '../context/types.js';
import type { QuerytrailEvent, StatementInfo, TraceInfo } from '../event/types.js';
import type { Decision } from '../policy/index.js';
import { objectsOf } from './describe.js';
import type { StatementStart } from './types.js';

/** Everything known about a statement when it is handed to the driver: shared by all its events. */
export interface PendingStatement {
  /**
   * The connection this statement was registered on as one that may change how the session lexes
   * strings (auditor/session-lexing.ts): settled there when it completes.
   */
  lexingChanger?: object | undefined;
  /** Given its db and connection when a pool-begun statement gets its connection (adoptConnection). */
  readonly start: StatementStart;
  readonly context: AuditContext | undefined;
  readonly trace: TraceInfo | undefined;
  readonly statement: StatementInfo;
  analysis: Analysis;
  decision: Decision | undefined;
  /** The line's params member and the statement's closing brace, written once for the attempt and the db.query record. */
  paramsClose: string | undefined;
}

/** The fields every statement event carries (actor, request, trace, db, orm, statement, objects, sensitivity, policy). */
export function statementFields(p: PendingStatement): Partial<QuerytrailEvent> {
  const ctx = p.context;
  const objects = objectsOf(p.analysis);
  const d = p.decision;
  return {
    ...(ctx?.actor ? { actor: ctx.actor } : {}),
    ...(ctx?.request ? { request: ctx.request } : {}),
    ...(p.trace ? { trace: p.trace } : {}),
    db: p.start.db,
    ...(ctx?.orm ? { orm: ctx.orm } : {}),
    statement: p.statement,
    ...(objects ? { objects } : {}),
    ...(d?.sensitivity ? { sensitivity: d.sensitivity } : {}),
    ...(d && recordable(d) ? { policy: d.decision } : {}),
  };
}

/** A plain allow with nothing to say is not repeated on every event. */
export function recordable(d: Decision): boolean {
  const p = d.decision;
  return p.decision !== 'allow' || p.window !== undefined || p.approval !== undefined || p.rule_id !== undefined;
}

/** Marks an error whose db.query.blocked record was already written, so it is not recorded twice. */
export const kRecorded = Symbol.for('querytrail.recorded');

export function isRecorded(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kRecorded] === true;
}
