import type { StatementRecorder } from '../../capture/types.js';

export function instrumentMysql2<T extends object>(_recorder: StatementRecorder, _target: T): T {
  throw new Error('instrumentMysql2: being written');
}
