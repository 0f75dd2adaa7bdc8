import type { StatementRecorder } from '../../capture/types.js';
import type { StatusReporter } from './track.js';
import { warnRecorderFailure } from './warn.js';

/** SERVER_STATUS_NO_BACKSLASH_ESCAPES: the session's sql_mode has NO_BACKSLASH_ESCAPES. */
const NO_BACKSLASH_ESCAPES = 512;

const reporters = new WeakMap<object, NonNullable<StatusReporter>>();

/**
 * Reports the NO_BACKSLASH_ESCAPES flag of a statement's closing OK packet for `conn`'s session.
 * One function per connection (a connection is instrumented for one recorder).
 */
export function statusReporter(recorder: StatementRecorder, conn: object): StatusReporter {
  if (recorder.sessionSetting === undefined) return undefined;
  let reporter = reporters.get(conn);
  if (reporter !== undefined) return reporter;
  reporter = (status) => {
    try {
      recorder.sessionSetting?.(conn, 'no_backslash_escapes', (status & NO_BACKSLASH_ESCAPES) !== 0);
    } catch (error) {
      warnRecorderFailure(error, { recorder, operation: 'recorder.sessionSetting' });
    }
  };
  reporters.set(conn, reporter);
  return reporter;
}
