import type { StatementRecorder, StatementStart } from '../../capture/types.js';
import { reportRecordingFailure } from '../recording-failure.js';

/**
 * A recorder failure (anything but a QuerytrailError) never breaks the application's query: the
 * statement goes on. With the recorder at hand it is also written to the trail (a sink.gap record);
 * see ../recording-failure.ts.
 */
export function warnRecorderFailure(
  error: unknown,
  site?: { recorder: StatementRecorder; operation: string; start?: StatementStart | undefined; unaudited?: boolean },
): void {
  reportRecordingFailure(
    { recorder: site?.recorder, driver: 'mariadb', operation: site?.operation ?? 'recording', start: site?.start, unaudited: site?.unaudited },
    error,
  );
}
