import type { DbInfo, DbSystem } from '../event/types.js';

/**
 * The contract between a driver wrapper and the auditor. A wrapper describes each statement at the
 * moment the application sends it (so the context is the caller's), then reports how it ended.
 */
export interface StatementStart {
  /** The statement text exactly as the application gave it (placeholders, not interpolated values). */
  text: string | undefined;
  /** Bound parameter values, if any. Hashed, redacted or omitted per configuration before storage. */
  params?: readonly unknown[] | undefined;
  /** pg named prepared statement, or mysql2 prepared statement id. */
  preparedName?: string | undefined;
  /** The connection the statement goes to (computed once per connection by the wrapper). */
  db: DbInfo;
  /**
   * The driver's connection object (pg Client, mysql2 Connection), used only as an identity: state
   * that lives per connection (PREPARE ... / EXECUTE tracking, session settings) is keyed by it.
   */
  connection?: object | undefined;
}

export interface StatementOutcome {
  rowsReturned?: number | undefined;
  rowsAffected?: number | undefined;
}

/** One statement in flight. Every method is idempotent after the first of succeed/fail. */
export interface StatementHandle {
  /**
   * When set (sync delivery mode), the statement must not be sent before this settles; if it rejects,
   * the rejection is the statement's error and the statement is never sent.
   */
  readonly ready: Promise<void> | undefined;
  /** Rows read so far by a cursor or stream (added to rowsReturned). */
  addRows(count: number): void;
  succeed(outcome?: StatementOutcome): void;
  /** `code`: SQLSTATE for PostgreSQL, errno for MySQL/MariaDB. */
  fail(error: unknown, code?: string | undefined): void;
  /**
   * A statement begun by a pool before it had a connection (see StatementRecorder.evidenceFirst) now
   * has one: its db.query record names that connection (the attempt keeps what was known at begin).
   */
  adoptConnection?(db: DbInfo, connection: object): void;
}

/**
 * A short-lived connection querytrail opens for itself (to read the table catalog), with the
 * application's settings but apart from its connections and pools. It is instrumented: what it runs
 * is recorded like any other statement, under its own connection id.
 */
export interface IntrospectionConnection {
  /** Runs one statement and resolves to its rows. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  /** Closes the connection. Never rejects. */
  close(): Promise<void>;
}

/** Opens a new IntrospectionConnection; rejects when one cannot be opened (no fallback to the app's). */
export type OpenIntrospection = () => Promise<IntrospectionConnection>;

export interface StatementRecorder {
  /**
   * True when statements may have to wait for a durable attempt record (sync or auto delivery). A
   * pool wrapper then begins a pool-level statement before checking out a connection, so that no
   * connection sits idle while the journal syncs to disk; the statement is sent once both are ready.
   */
  readonly evidenceFirst?: boolean;
  /**
   * Call synchronously at the call site, before sending. Throws a QuerytrailError (for example
   * QueryBlockedError) when the statement must not be sent: deliver that error through the driver's
   * own error path (callback, promise, 'error' event) and never send the statement.
   */
  begin(start: StatementStart): StatementHandle;
  /**
   * db.connect / db.disconnect events. With db.connect a driver may pass `openIntrospection`, which
   * opens a separate connection with the same settings: the auditor reads the table catalog through
   * it, never through the application's connection (docs/analysis.md, "Catalog").
   */
  connection(type: 'db.connect' | 'db.disconnect', db: DbInfo, openIntrospection?: OpenIntrospection): void;
  /**
   * The server announced how this session lexes string literals (PostgreSQL ParameterStatus
   * standard_conforming_strings; MySQL/MariaDB NO_BACKSLASH_ESCAPES in the handshake or an OK packet's
   * status flags). Optional: without it a text with a backslash is analysed both ways.
   */
  sessionSetting?(connection: object, setting: 'standard_conforming_strings' | 'no_backslash_escapes', value: boolean): void;
  /**
   * A failure inside querytrail's own recording (never a policy decision) that a driver caught and let
   * the application go on past. The auditor writes it to the trail as a `sink.gap` record (who, which
   * database, which text), so a statement sent without its audit record is itself on record. Never throws.
   */
  recordingFailed?(failure: RecordingFailure): void;
}

export interface RecordingFailure {
  /** The driver wrapper that caught it: 'pg', 'mysql2', 'mariadb'… */
  driver: string;
  /** What failed: 'recorder.begin', 'statement.succeed'… */
  operation: string;
  error: unknown;
  /** The statement concerned, when there is one. */
  start?: StatementStart | undefined;
  /** True when a statement went (or may go) to the database without its db.query record. */
  unaudited: boolean;
}

export type { DbInfo, DbSystem };
