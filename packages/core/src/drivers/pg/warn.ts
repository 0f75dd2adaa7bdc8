/**
 * A failure inside querytrail (not a policy decision) must never break the application's query:
 * it is reported once per distinct message through process.emitWarning, and the statement goes on.
 */
const reported = new Set<string>();
const MAX_DISTINCT = 64;

export const RECORDER_FAILURE_CODE = 'QUERYTRAIL_RECORDER_FAILURE';

export function reportRecorderFailure(error: unknown, what: string): void {
  const message = error instanceof Error ? error.message : String(error);
  const key = `${what}\u0000${message}`;
  if (reported.has(key) || reported.size >= MAX_DISTINCT) return;
  reported.add(key);
  process.emitWarning(`querytrail (pg): ${what} failed; the query went on, its audit record may be missing: ${message}`, {
    code: RECORDER_FAILURE_CODE,
    detail: error instanceof Error && error.stack ? error.stack : undefined,
  } as { code: string; detail?: string });
}
