import type { Analysis } from '../analysis/index.js';
import type { DbInfo, QuerytrailEvent, SourceInfo } from '../event/types.js';

/** What a statement capture needs from its auditor: prepared once at configuration time. */
export interface CaptureRuntime {
  readonly source: SourceInfo;
  emit(event: QuerytrailEvent): void;
  /** Emits a record the journal serialises itself (listeners get `record.toEvent()`). */
  emitRecord(record: import('../journal/record.js').JournalRecord): void;
  /** Analyses a text whose analysis was provisional at begin (parsers still loading). */
  analyze(text: string | undefined, db: DbInfo): Analysis;
  /** A statement succeeded: DDL refreshes the catalog. */
  succeeded(db: DbInfo, analysis: Analysis): void;
  /** Bulk-read alerts raised while rows were read: policy.alert events and the onAlert hooks. */
  alert(pending: import('./pending-statement.js').PendingStatement, alerts: readonly import('../policy/index.js').AlertInfo[], statementEventId: string): void;
  /** The statement now has its connection (pool-level begin): it may change that session's string lexing. */
  lexingSending(pending: import('./pending-statement.js').PendingStatement): void;
  /** A statement marked lexingChanger completed, failed or was refused. */
  lexingSettled(pending: import('./pending-statement.js').PendingStatement): void;
  /** Runs `fn` once the parsers have loaded (or failed to): at once if they already have. */
  afterAnalyzers(fn: () => void): void;
  /** A failure of ours lost this statement's record: say so in the trail (a sink.gap record). */
  recordingFailed(failure: import('./types.js').RecordingFailure): void;
}
