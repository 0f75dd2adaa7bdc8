import type { DbInfo, StatementHandle, StatementOutcome, StatementRecorder } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { warnRecorderFailure } from './warn.js';

/** mysql2 values: an array, a single scalar (SqlString.format wraps it), or a named-placeholder object. */
export function paramsOf(values: unknown): readonly unknown[] | undefined {
  if (values === undefined || values === null) return undefined;
  return Array.isArray(values) ? values : [values];
}

/**
 * Describes the statement at the call site (`connection`: the mysql2 Connection it goes to, identity
 * only). Throws only a QuerytrailError (the statement must not be
 * sent); any other recorder failure is reported as a warning and the statement goes out unrecorded.
 */
export function beginStatement(
  recorder: StatementRecorder,
  text: unknown,
  values: unknown,
  db: DbInfo,
  connection: object,
  preparedName?: string,
): StatementHandle | undefined {
  const start = { text: typeof text === 'string' ? text : undefined, params: paramsOf(values), preparedName, db, connection };
  try {
    return recorder.begin(start);
  } catch (error) {
    if (error instanceof QuerytrailError) throw error;
    warnRecorderFailure(error, { recorder, operation: 'recorder.begin', start, unaudited: true });
    return undefined;
  }
}

/** mysql2 errors carry the server's error number in errno (e.g. 1146 for ER_NO_SUCH_TABLE). */
function errnoOf(error: unknown): string | undefined {
  const errno = (error as { errno?: unknown } | null | undefined)?.errno;
  return typeof errno === 'number' ? String(errno) : undefined;
}

export function succeed(handle: StatementHandle | undefined, outcome: StatementOutcome | undefined): void {
  if (!handle) return;
  try {
    handle.succeed(outcome);
  } catch (error) {
    warnRecorderFailure(error);
  }
}

export function fail(handle: StatementHandle | undefined, error: unknown): void {
  if (!handle) return;
  try {
    handle.fail(error, errnoOf(error));
  } catch (e) {
    warnRecorderFailure(e);
  }
}

export function addRows(handle: StatementHandle | undefined, count: number): void {
  if (!handle) return;
  try {
    handle.addRows(count);
  } catch (error) {
    warnRecorderFailure(error);
  }
}
