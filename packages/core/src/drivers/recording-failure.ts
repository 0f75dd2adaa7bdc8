import type { StatementRecorder, StatementStart } from '../capture/types.js';

/**
 * A failure inside querytrail (not a policy decision) never breaks the application's query: the
 * statement goes on. It is written to the trail (recorder.recordingFailed: a sink.gap record naming
 * the actor, database and text), and reported once per distinct message as a process warning for
 * whoever watches the process rather than the trail.
 */
const warned = new Set<string>();
const MAX_DISTINCT_WARNINGS = 64;

export const RECORDER_FAILURE_CODE = 'QUERYTRAIL_RECORDER_FAILURE';

export interface FailureSite {
  recorder: StatementRecorder | undefined;
  driver: string;
  operation: string;
  start?: StatementStart | undefined;
  /** The statement goes (or went) out without its db.query record. */
  unaudited?: boolean | undefined;
}

export function reportRecordingFailure(site: FailureSite, error: unknown): void {
  try {
    site.recorder?.recordingFailed?.({
      driver: site.driver,
      operation: site.operation,
      error,
      start: site.start,
      unaudited: site.unaudited === true,
    });
  } catch {
    // recordingFailed never throws by contract; a third-party recorder might.
  }
  const message = error instanceof Error ? error.message : String(error);
  const key = `${site.driver}\u0000${site.operation}\u0000${message}`;
  if (warned.has(key) || warned.size >= MAX_DISTINCT_WARNINGS) return;
  warned.add(key);
  try {
    process.emitWarning(
      `querytrail (${site.driver}): ${site.operation} failed; the query went on${site.unaudited ? ' without its audit record (a sink.gap record says so)' : ''}: ${message}`,
      { code: RECORDER_FAILURE_CODE, detail: error instanceof Error && error.stack ? error.stack : undefined } as { code: string; detail?: string },
    );
  } catch {
    // emitWarning itself never breaks a query either.
  }
}
