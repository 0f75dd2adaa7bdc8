/**
 * A recorder failure (anything but a QuerytrailError) never breaks the application's query: the
 * statement is sent anyway and the failure is reported as a process warning.
 */
export function warnRecorderFailure(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  try {
    process.emitWarning(`querytrail (mariadb): recording failed, the statement was not held back: ${message}`, {
      code: 'QT_RECORDER_FAILURE',
    });
  } catch {
    // emitWarning itself never breaks a query either.
  }
}
