export { Auditor, createAuditor, type EventListener } from './auditor/auditor.js';
export type { AuditorOptions } from './auditor/options.js';
export type { IntrospectionConnection, OpenIntrospection, StatementHandle, StatementOutcome, StatementRecorder, StatementStart } from './capture/types.js';
export type { ParamsOptions } from './capture/params.js';
export { runWithContext, currentContext } from './context/store.js';
export type { AuditContext, ContextProvider } from './context/types.js';
export type { ContextResolver, HttpRequestLike } from './context/http.js';
export { ConfigError, JournalUnavailableError, QueryBlockedError, QuerytrailError, type QuerytrailErrorCode } from './errors.js';
export * from './event/types.js';
export { SDK_VERSION } from './event/version.js';
export { Journal, type JournalOptions } from './journal/journal.js';
export { hashLine, ZERO_HASH } from './journal/hash.js';
export { checkpointFileName, listSegments, parseSegmentName, segmentFileName } from './journal/segment-files.js';
export { verifyJournal, type ChainReport, type SegmentReport, type Status, type VerifyOptions, type VerifyReport } from './verify/verify-journal.js';
export { loadTrustedKeys, trustedKey, type TrustedKey } from './verify/public-keys.js';
export { type Checkpoint, CHECKPOINT_SCHEMA, signedPayload, verifyCheckpointSignature } from './journal/checkpoint.js';
export { MerkleAccumulator, leafHash, nodeHash } from './journal/merkle.js';
export { keyIdOf, loadSigningKey, type SigningKey, type SigningKeyInput } from './journal/signing-key.js';
export type { Finding, FindingCode, Verdict } from './verify/findings.js';
export {
  analyze,
  createAnalyzer,
  createCatalog,
  CatalogSource,
  introspectCatalog,
  loadAnalyzers,
  mostSevere,
  PreparedStatementTracker,
  SEVERITY,
  splitSqlText,
  type SplitText,
  type SplitTextOptions,
  type Access,
  type Analysis,
  type AnalyzedObject,
  type AnalyzedStatement,
  type AnalyzeOptions,
  type Analyzer,
  type AnalyzerOptions,
  type Catalog,
  type CatalogInput,
  type Dialect,
  type QueryFn,
  type StatementKind,
} from './analysis/index.js';
export { instrumentPg } from './drivers/pg/instrument.js';
export { instrumentMysql2 } from './drivers/mysql2/instrument.js';
export { instrumentMariadb } from './drivers/mariadb/instrument.js';
export {
  blockedError,
  BulkReadTracker,
  createAlertHookRunner,
  definePolicy,
  isCompiledPolicy,
  loadPolicy,
  PolicyConfigError,
  type AlertHook,
  type AlertInfo,
  type AlertKind,
  type ApprovalRecord,
  type CompiledPolicy,
  type Decision,
  type DecisionInput,
  type PolicyInput,
  type PolicyMode,
} from './policy/index.js';
export type { CatalogOptions } from './auditor/catalogs.js';
export { createDelivery, validateSinks, type Delivery, type DeliveryOptions } from './delivery/engine.js';
export type { BackoffOptions } from './delivery/backoff.js';
export type { Sink, SinkBatch, SinkFile, SinkRecord, SinkThrottleError, SinkWriteResult } from './delivery/sink.js';
