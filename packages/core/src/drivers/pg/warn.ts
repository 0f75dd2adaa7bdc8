import type { StatementRecorder, StatementStart } from '../../capture/types.js';
import { reportRecordingFailure } from '../recording-failure.js';

export { RECORDER_FAILURE_CODE } from '../recording-failure.js';

/**
 * A failure inside querytrail (not a policy decision) never breaks the application's query. With the
 * recorder at hand it is also written to the trail (a sink.gap record); see ../recording-failure.ts.
 */
export function reportRecorderFailure(
  error: unknown,
  what: string,
  site?: { recorder: StatementRecorder; start?: StatementStart | undefined; unaudited?: boolean },
): void {
  reportRecordingFailure({ recorder: site?.recorder, driver: 'pg', operation: what, start: site?.start, unaudited: site?.unaudited }, error);
}
