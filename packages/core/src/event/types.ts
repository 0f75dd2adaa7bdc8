/** The `querytrail.event/1` record: one JSON object per journal line, snake_case. See docs/events.md. */

export const EVENT_SCHEMA = 'querytrail.event/1' as const;

export type EventType =
  | 'db.query.attempt'
  | 'db.query'
  | 'db.query.blocked'
  | 'db.connect'
  | 'db.disconnect'
  | 'policy.override'
  | 'policy.alert'
  | 'sdk.start'
  | 'sdk.stop'
  | 'heartbeat'
  | 'sink.gap'
  | 'chain.genesis';

export type ActorType = 'human' | 'service' | 'bot' | 'system';

export interface Actor {
  type: ActorType;
  id: string;
  name?: string;
  roles?: readonly string[];
  impersonator?: { type?: ActorType; id: string; name?: string };
  auth?: { method?: string; mfa?: boolean };
  session_id?: string;
}

export interface RequestInfo {
  id?: string;
  method?: string;
  route?: string;
  client_ip?: string;
  user_agent?: string;
}

export interface TraceInfo {
  trace_id: string;
  span_id: string;
  flags: string;
}

export type DbSystem = 'postgresql' | 'mysql' | 'mariadb';

export interface DbInfo {
  system: DbSystem;
  namespace?: string;
  user?: string;
  server?: { address?: string; port?: number };
  driver: string;
  connection_id?: string;
  tx_id?: string;
}

export interface OrmInfo {
  name: string;
  model?: string;
  operation?: string;
  /**
   * TypeORM: the model's properties behind the columns this statement touches, property path →
   * column name (from the entity metadata), so a reader can relate `objects[].columns` to the code.
   */
  properties?: Record<string, string>;
  /**
   * Prisma: set when one statement served several ORM calls (concurrent findUnique calls merged
   * into one query, or the calls of a batch $transaction): every call, in order. The event's own
   * actor/request are those of the first call.
   */
  callers?: OrmCaller[];
}

/** One ORM call a statement served (see OrmInfo.callers). */
export interface OrmCaller {
  model?: string;
  operation?: string;
  actor_id?: string;
  request_id?: string;
}

export type StatementClass = 'read' | 'write' | 'ddl' | 'dcl' | 'admin' | 'tcl' | 'exec' | 'unknown';

export type ParamsMode = 'omitted' | 'hashed' | 'redacted' | 'raw';

export interface StatementInfo {
  class: StatementClass;
  command: string;
  text?: string;
  fingerprint?: string;
  summary?: string;
  truncated?: boolean;
  /** Policy must treat it as destructive (docs/analysis.md): DROP, DELETE without WHERE, audit switches, … */
  destructive?: boolean;
  prepared_name?: string;
  params?: { mode: ParamsMode; count: number; values?: unknown[] };
}

export interface ObjectRef {
  type: 'table' | 'view' | 'unknown';
  schema?: string;
  name: string;
  columns?: string[];
  access: 'read' | 'write' | 'ddl';
}

export interface SensitivityInfo {
  tags: string[];
  matched: { object: string; column: string; rule_id: string; category: string }[];
}

export type Outcome = 'success' | 'failure' | 'blocked';

export interface ResultInfo {
  outcome: Outcome;
  error?: { code?: string; message: string };
  rows_returned?: number;
  rows_affected?: number;
}

export interface PolicyInfo {
  decision: 'allow' | 'alert' | 'block' | 'allow_override';
  mode: 'enforce' | 'monitor';
  rule_id?: string;
  reason?: string;
  window?: { id: string; start?: string; end?: string };
  approval?: { ticket: string; approver?: string; expires?: string };
}

export interface GapInfo {
  first_seq?: number;
  last_seq?: number;
  count: number;
  cause: string;
}

export interface IntegrityInfo {
  chain_id: string;
  seq: number;
  /** Lowercase hex SHA-256 of the previous record's line bytes; 64 zeros for the first record of a chain. */
  prev_hash: string;
}

export interface SourceInfo {
  sdk: { name: '@querytrail/core'; version: string };
  service: { name: string; version?: string; env?: string; instance_id: string };
  host: string;
  pid: number;
}

export interface GenesisInfo {
  reason: 'first_start' | 'restart' | 'crash_recovery' | 'key_rotation';
  previous?: { chain_id: string; seq: number; hash: string; segment?: string };
  /** Present when the chain is signed: the verifier then expects qt-<chain_id>.checkpoints.jsonl. */
  checkpoints?: { key_id: string };
  /**
   * Present when the previous process left spilled records that were never chained (it was killed
   * before its writer got to them): they follow this record, first thing in the chain, in order.
   * `records`: how many; `files`: the spill files (under <dir>/.spill/) they were read from;
   * `torn`: frames cut short by the crash, set aside and each counted in a sink.gap record.
   */
  spilled?: { records: number; files: string[]; torn?: number };
}

export interface QuerytrailEvent {
  schema: typeof EVENT_SCHEMA;
  event_id: string;
  type: EventType;
  time: string;
  start_time?: string;
  end_time?: string;
  duration_us?: number;
  /** Set by the journal when the event is chained; absent on events that were never journaled. */
  integrity?: IntegrityInfo | undefined;
  source: SourceInfo;
  actor?: Actor;
  request?: RequestInfo;
  trace?: TraceInfo;
  db?: DbInfo;
  orm?: OrmInfo;
  statement?: StatementInfo;
  objects?: ObjectRef[];
  sensitivity?: SensitivityInfo;
  result?: ResultInfo;
  policy?: PolicyInfo;
  gap?: GapInfo;
  genesis?: GenesisInfo;
  /** For db.query written after a db.query.attempt: the attempt it completes. */
  attempt_id?: string;
  /** policy.alert: what was alerted (see docs/policy.md). */
  alert?: import('../policy/alerts.js').AlertInfo;
  /** Set by the journal when a value in the event could not be serialised as JSON and was replaced. */
  serialization_error?: string;
  /** policy.alert / policy.override: the statement event it is about. */
  statement_event_id?: string;
}
