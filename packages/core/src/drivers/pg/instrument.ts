import type { StatementRecorder } from '../../capture/types.js';

export function instrumentPg<T extends object>(_recorder: StatementRecorder, _target: T): T {
  throw new Error('instrumentPg: being written');
}
