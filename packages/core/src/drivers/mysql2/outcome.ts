import type { StatementOutcome } from '../../capture/types.js';

function affectedOf(value: unknown): number | undefined {
  const n = (value as { affectedRows?: unknown } | null | undefined)?.affectedRows;
  return typeof n === 'number' ? n : undefined;
}

/**
 * mysql2 hands one result as (rows, fields): rows is an array (SELECT) or a ResultSetHeader (DML);
 * with several result sets (multipleStatements, CALL) rows and fields are arrays with one entry per
 * result set, and each fields entry is an array of columns or undefined. Multi results are summed.
 */
export function outcomeOf(rows: unknown, fields: unknown): StatementOutcome | undefined {
  const multi = Array.isArray(rows) && Array.isArray(fields) && fields.length > 0 && (fields[0] === undefined || Array.isArray(fields[0]));
  if (!multi) {
    if (Array.isArray(rows)) return { rowsReturned: rows.length };
    const affected = affectedOf(rows);
    return affected === undefined ? undefined : { rowsAffected: affected };
  }
  let returned: number | undefined;
  let affected: number | undefined;
  for (let i = 0; i < (rows as unknown[]).length; i++) {
    const part = (rows as unknown[])[i];
    if (Array.isArray(part)) {
      returned = (returned ?? 0) + part.length;
    } else {
      const a = affectedOf(part);
      if (a !== undefined) affected = (affected ?? 0) + a;
    }
  }
  return { rowsReturned: returned, rowsAffected: affected };
}
