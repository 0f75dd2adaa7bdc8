import type { StatementOutcome } from '../../capture/types.js';
import type { PgResultLike } from './types.js';

/** Command tags whose count is rows written, not rows returned. */
const AFFECTING = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

export function isAffectingCommand(command: string | null | undefined): boolean {
  return command != null && AFFECTING.has(command);
}

/** "INSERT 0 5" → { command: 'INSERT', count: 5 }; "CREATE TABLE" → { command: 'CREATE', count: undefined }. */
export function parseCommandTag(tag: unknown): { command: string; count: number | undefined } | undefined {
  if (typeof tag !== 'string' || tag.length === 0) return undefined;
  const space = tag.indexOf(' ');
  const command = space < 0 ? tag : tag.slice(0, space);
  const last = tag.lastIndexOf(' ');
  const n = last < 0 ? Number.NaN : Number(tag.slice(last + 1));
  return { command, count: Number.isInteger(n) ? n : undefined };
}

/**
 * Rows returned / affected of a finished text query. A multi-statement text gives an array of
 * results: returned and affected rows are summed over them. A statement returns rows when the
 * server described a row shape (SELECT, FETCH, SHOW, EXPLAIN, RETURNING ...).
 */
export function outcomeOfResult(result: unknown): StatementOutcome | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  let returned: number | undefined;
  let affected: number | undefined;
  const list = Array.isArray(result) ? (result as PgResultLike[]) : [result as PgResultLike];
  for (const r of list) {
    if (r === null || typeof r !== 'object') continue;
    if (isAffectingCommand(r.command)) affected = (affected ?? 0) + (r.rowCount ?? 0);
    if (r.fields !== undefined && r.fields.length > 0) {
      returned = (returned ?? 0) + (Array.isArray(r.rows) ? r.rows.length : (r.rowCount ?? 0));
    }
  }
  if (returned === undefined && affected === undefined) return undefined;
  const outcome: StatementOutcome = {};
  if (returned !== undefined) outcome.rowsReturned = returned;
  if (affected !== undefined) outcome.rowsAffected = affected;
  return outcome;
}

/** SQLSTATE (or Node error code) of a driver error. */
export function errorCodeOf(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
