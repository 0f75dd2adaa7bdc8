import type { QuerytrailEvent, SourceInfo } from '../event/types.js';

/** What a statement capture needs from its auditor: prepared once at configuration time. */
export interface CaptureRuntime {
  readonly source: SourceInfo;
  emit(event: QuerytrailEvent): void;
}
