import type { StatementOutcome } from '../../capture/types.js';

function affectedOf(value: unknown): number | undefined {
  const n = (value as { affectedRows?: unknown } | null | undefined)?.affectedRows;
  return typeof n === 'number' ? n : typeof n === 'bigint' ? Number(n) : undefined;
}

function isResultSet(value: unknown): value is unknown[] {
  return Array.isArray(value) && (value as { meta?: unknown }).meta !== undefined;
}

/**
 * mariadb results: a row array carrying `meta` (SELECT, also with rowsAsArray), an OkPacket with
 * affectedRows (DML), `[rows, meta]` with metaAsArray, or, for several result sets
 * (multipleStatements, CALL, batch with fullResult), an array of those. Several are summed.
 */
export function outcomeOf(result: unknown): StatementOutcome | undefined {
  if (isResultSet(result)) return { rowsReturned: result.length };
  if (!Array.isArray(result)) {
    const affected = affectedOf(result);
    return affected === undefined ? undefined : { rowsAffected: affected };
  }
  let returned: number | undefined;
  let affected: number | undefined;
  for (const part of result) {
    if (isResultSet(part)) returned = (returned ?? 0) + part.length;
    else {
      const a = affectedOf(part);
      if (a !== undefined) affected = (affected ?? 0) + a;
    }
  }
  if (returned === undefined && affected === undefined) return { rowsReturned: result.length };
  return { rowsReturned: returned, rowsAffected: affected };
}
