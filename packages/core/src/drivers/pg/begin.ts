import type { StatementHandle, StatementOutcome, StatementRecorder, StatementStart } from '../../capture/types.js';
import { QuerytrailError } from '../../errors.js';
import { errorCodeOf } from './outcome.js';
import { reportRecorderFailure } from './warn.js';

/** What begin() decided: a handle to settle, `undefined` (recorder bug: send unaudited), or a refusal. */
export type Admission = StatementHandle | undefined | Refusal;

/** The statement must not be sent; `error` goes to the application through the driver's error path. */
export class Refusal {
  constructor(readonly error: QuerytrailError) {}
}

/**
 * Calls recorder.begin at the call site. A QuerytrailError (QueryBlockedError, JournalUnavailableError)
 * refuses the statement; anything else is our own bug: warn and let the statement through (fail-open
 * for bugs, never for a decision).
 */
export function admit(recorder: StatementRecorder, start: StatementStart): Admission {
  try {
    return recorder.begin(start);
  } catch (err) {
    if (err instanceof QuerytrailError) return new Refusal(err);
    reportRecorderFailure(err, 'recorder.begin', { recorder, start, unaudited: true });
    return undefined;
  }
}

export function succeed(handle: StatementHandle, outcome: StatementOutcome | undefined): void {
  try {
    handle.succeed(outcome);
  } catch (err) {
    reportRecorderFailure(err, 'statement.succeed');
  }
}

export function fail(handle: StatementHandle, error: unknown): void {
  try {
    handle.fail(error, errorCodeOf(error));
  } catch (err) {
    reportRecorderFailure(err, 'statement.fail');
  }
}

export function addRows(handle: StatementHandle, count: number): void {
  try {
    handle.addRows(count);
  } catch (err) {
    reportRecorderFailure(err, 'statement.addRows');
  }
}
