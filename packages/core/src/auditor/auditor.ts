import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createParamsEncoder, type ParamsEncoder } from '../capture/params.js';
import { type Analysis, type Analyzer, createAnalyzer, loadAnalyzers, PreparedStatementTracker } from '../analysis/index.js';
import { unknownResult } from '../analysis/analyze.js';
import { CatalogRegistry } from './catalogs.js';
import { applyAnalysis, describe, dialectOf, statementInfo } from '../capture/describe.js';
import { kRecorded, type PendingStatement, statementFields } from '../capture/pending-statement.js';
import { type AlertInfo, blockedError, type BulkStatementCounter, type CompiledPolicy, definePolicy } from '../policy/index.js';
import type { CaptureRuntime } from '../capture/runtime.js';
import { StatementCapture } from '../capture/statement-capture.js';
import { AttemptRecord } from '../capture/attempt-record.js';
import type { JournalRecord } from '../journal/record.js';
import type { OpenIntrospection, RecordingFailure, StatementHandle, StatementRecorder, StatementStart } from '../capture/types.js';
import { type ContextResolver, expressMiddleware, fastifyPlugin, type HttpRequestLike } from '../context/http.js';
import { contextStore, runWithContext } from '../context/store.js';
import { activeTrace } from '../context/trace.js';
import type { AuditContext, ContextProvider } from '../context/types.js';
import { formatMicros, nowMicros } from '../event/clock.js';
import type { DbInfo, EventType, QuerytrailEvent, SourceInfo, StatementInfo } from '../event/types.js';
import { QueryBlockedError, QuerytrailError } from '../errors.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import { SDK_VERSION } from '../event/version.js';
import { Journal } from '../journal/journal.js';
import { createDelivery, type Delivery } from '../delivery/engine.js';
import { instrumentMysql2 } from '../drivers/mysql2/instrument.js';
import { instrumentMariadb } from '../drivers/mariadb/instrument.js';
import { instrumentPg } from '../drivers/pg/instrument.js';
import { type AuditorOptions, validateOptions } from './options.js';
import { type LexingSetting, mayChangeLexing, SessionLexing } from './session-lexing.js';

export type EventListener = (event: QuerytrailEvent) => void;

/** Test and extension seam: runs in begin() and may throw to refuse a statement (policy plugs in here). */
export const kStatementGate = Symbol.for('querytrail.statementGate');
export type StatementGate = (start: StatementStart, statement: StatementInfo, context: AuditContext | undefined) => void;

export class Auditor implements StatementRecorder, CaptureRuntime {
  readonly source: SourceInfo;
  readonly journal: Journal | undefined;
  private readonly listeners = new Set<EventListener>();
  private readonly encodeParams: ParamsEncoder;
  /** For values bound to sensitive columns when the configured mode is raw. */
  private readonly hashParams: ParamsEncoder;
  private readonly paramsMode: string;
  private readonly policy: CompiledPolicy | undefined;
  private readonly maxText: number;
  private readonly contextProvider: ContextProvider | undefined;
  private readonly delivery: 'async' | 'sync' | 'auto';
  private readonly analyzer: Analyzer;
  private readonly analyzersLoaded: Promise<void>;
  private analyzersSettled = false;
  private readonly catalogs: CatalogRegistry;
  /** How each connection's server lexes strings (standard_conforming_strings, NO_BACKSLASH_ESCAPES). */
  private readonly sessionLexing = new SessionLexing();
  /** PREPARE name → body, per connection: EXECUTE name is judged by what it runs. */
  private readonly prepared = new WeakMap<object, PreparedStatementTracker>();
  private closing: Promise<void> | undefined;
  /** Ships the journal to options.sinks (docs/sinks.md); undefined without sinks. */
  readonly sinkDelivery: Delivery | undefined;
  private readonly sinksStarted: Promise<void> | undefined;
  private readonly sinkCloseTimeoutMs: number;
  [kStatementGate]: StatementGate | undefined;

  constructor(rawOptions: AuditorOptions) {
    const options = validateOptions(rawOptions);
    const svc = options.service;
    this.source = Object.freeze({
      sdk: Object.freeze({ name: '@querytrail/core' as const, version: SDK_VERSION }),
      service: Object.freeze({
        name: svc.name,
        ...(svc.version === undefined ? {} : { version: svc.version }),
        ...(svc.env === undefined ? {} : { env: svc.env }),
        instance_id: svc.instanceId ?? uuidv7(),
      }),
      host: hostname(),
      pid: process.pid,
    });
    const paramKey = randomBytes(32);
    this.encodeParams = createParamsEncoder(options.params, paramKey);
    this.hashParams = createParamsEncoder({ ...options.params, mode: 'hashed' }, paramKey);
    this.paramsMode = options.params?.mode ?? 'hashed';
    this.policy = options.policy === undefined ? undefined : definePolicy(options.policy);
    this.maxText = options.maxStatementLength ?? 16384;
    this.contextProvider = options.contextProvider;
    this.analyzer = createAnalyzer(options.analysis ?? {});
    this.catalogs = new CatalogRegistry(options.catalog, (err) =>
      process.emitWarning(`querytrail could not read the table catalog: ${String(err)}`, { code: 'QUERYTRAIL_CATALOG' }),
    );
    // The WASM parsers load in the background; statements sent before they are ready are analysed at completion.
    this.analyzersLoaded = loadAnalyzers().then(
      () => {
        this.analyzersSettled = true;
      },
      (err: unknown) => {
        this.analyzersSettled = true;
        // Statements stay 'unknown' (and policy fails closed on unknown): loud, never silent.
        process.emitWarning(`querytrail could not load its SQL parsers: ${String(err)}`, { code: 'QUERYTRAIL_ANALYSIS' });
      },
    );
    if (options.onEvent) this.listeners.add(options.onEvent);
    this.journal = options.journal === false ? undefined : new Journal(options.journal, this.source);
    this.delivery = options.journal === false ? 'async' : (options.journal.mode ?? 'async');
    this.sinkCloseTimeoutMs = options.delivery?.closeTimeoutMs ?? 10_000;
    if (this.journal && options.sinks && options.sinks.length > 0) {
      // After the journal exists: its new chain seals the previous one, whose last files can then ship.
      const d = options.delivery;
      this.sinkDelivery = createDelivery({
        dir: this.journal.dir,
        sinks: options.sinks,
        ...(d?.pollIntervalMs === undefined ? {} : { pollIntervalMs: d.pollIntervalMs }),
        ...(d?.backoff === undefined ? {} : { backoff: d.backoff }),
        ...(d?.onError === undefined ? {} : { onError: d.onError }),
      });
      this.sinksStarted = this.sinkDelivery.start();
      // Not awaited by anyone yet: a sink that refuses to start is reported, and sinksReady() rejects with it.
      this.sinksStarted.catch((err: unknown) =>
        process.emitWarning(`querytrail sinks: ${err instanceof Error ? err.message : String(err)}`, { code: 'QUERYTRAIL_SINK' }),
      );
    }
    this.emitLifecycle('sdk.start');
    if (this.journal && options.closeOnExit !== false) {
      // A process that ends without close() still gets sdk.stop, a flushed journal and a final checkpoint.
      // beforeExit only fires when the event loop is empty, i.e. the app has nothing left to do.
      this.onBeforeExit = () => void this.close();
      process.once('beforeExit', this.onBeforeExit);
    }
  }

  private onBeforeExit: (() => void) | undefined;

  // ---- context -------------------------------------------------------------------------------

  runWithContext<R>(context: AuditContext, fn: () => R): R {
    return runWithContext(context, fn);
  }

  /** Express middleware; `resolve` maps a request to its actor (the app owns authentication). */
  express<Req extends HttpRequestLike = HttpRequestLike>(resolve?: ContextResolver<Req>) {
    return expressMiddleware(resolve);
  }

  /** Fastify plugin: `app.register(auditor.fastify(req => ({ actor })))`. */
  fastify<Req extends HttpRequestLike = HttpRequestLike>(resolve?: ContextResolver<Req>) {
    return fastifyPlugin(resolve);
  }

  // ---- drivers -------------------------------------------------------------------------------

  /** Instruments a pg Pool or Client in place and returns the same object. */
  instrumentPg<T extends object>(poolOrClient: T): T {
    return instrumentPg(this, poolOrClient);
  }

  /** Instruments a mysql2 Pool or Connection (callback or promise API) in place and returns the same object. */
  instrumentMysql2<T extends object>(poolOrConnection: T): T {
    return instrumentMysql2(this, poolOrConnection);
  }

  /** Instruments a mariadb (promise API) Pool or Connection in place and returns the same object. */
  instrumentMariadb<T extends object>(poolOrConnection: T): T {
    return instrumentMariadb(this, poolOrConnection);
  }

  // ---- StatementRecorder ---------------------------------------------------------------------

  /** Sync or auto delivery: pools begin statements before checkout (capture/types.ts). */
  get evidenceFirst(): boolean {
    return this.journal !== undefined && this.delivery !== 'async';
  }

  begin(start: StatementStart): StatementHandle {
    let described: { analysis: Analysis; provisional: boolean };
    let analysis: Analysis;
    const text = typeof start.text === 'string' ? start.text : undefined;
    try {
      described = describe(this.analyzer, text, start.db.system, this.catalogs.get(start.db), this.sessionLexing.options(start.connection));
      analysis = start.connection ? this.trackPrepared(start.connection, start.db, described.analysis) : described.analysis;
    } catch (err) {
      // A bug of ours must not make a statement vanish from the trail (the driver would send it
      // unrecorded): record it as unknown, which policy treats as it treats anything unknown.
      process.emitWarning(`querytrail could not analyse a statement: ${String(err)}`, { code: 'QUERYTRAIL_ANALYSIS' });
      analysis = unknownResult('internal error while analysing', true, err instanceof Error ? err.message : String(err));
      described = { analysis, provisional: false };
    }
    const statement = statementInfo(analysis, text, this.maxText, start.preparedName);
    const pending: PendingStatement = { start, context: this.currentContext(), trace: activeTrace(), statement, analysis, decision: undefined, paramsClose: undefined };

    if (described.provisional && (this.policy || this.delivery !== 'async')) {
      // The parsers are still loading: a decision (or an attempt record) on a guess is worse than a short wait.
      let attemptId: string | undefined;
      const ready = this.analyzersLoaded.then(() => {
        pending.analysis = this.analyze(text, start.db);
        applyAnalysis(statement, pending.analysis);
        this.admit(pending);
        const durable = this.writeAttemptIfSync(pending);
        attemptId = durable?.attemptId;
        return durable?.written;
      });
      this.lexingSending(pending);
      return new StatementCapture(this, pending, { provisional: false, ready, attemptId: () => attemptId, bulk: this.bulkOf });
    }

    this.admit(pending);
    const durable = this.writeAttemptIfSync(pending);
    this.lexingSending(pending);
    return new StatementCapture(this, pending, {
      provisional: described.provisional,
      ready: durable?.written,
      attemptId: durable?.attemptId,
      bulk: this.bulkOf,
    });
  }

  /** A statement that may change how its session lexes strings: later ones are read both ways until it completes. */
  lexingSending(p: PendingStatement): void {
    const connection = p.start.connection;
    if (connection === undefined || p.lexingChanger !== undefined || !mayChangeLexing(p.analysis)) return;
    this.sessionLexing.changing(connection);
    p.lexingChanger = connection;
  }

  lexingSettled(p: PendingStatement): void {
    if (p.lexingChanger === undefined) return;
    this.sessionLexing.changed(p.lexingChanger);
    p.lexingChanger = undefined;
  }

  /** A driver reports a string-lexing setting its server announced for `connection`. */
  sessionSetting(connection: object, setting: LexingSetting, value: boolean): void {
    this.sessionLexing.report(connection, setting, value);
  }

  /**
   * Policy (and the test gate) decide before anything is sent. A refusal is recorded as
   * db.query.blocked and thrown; the driver delivers it through its own error path.
   */
  private admit(p: PendingStatement): void {
    const { start, statement } = p;
    try {
      this[kStatementGate]?.(start, statement, p.context);
      if (this.policy) {
        const d = this.policy.decide({
          analysis: p.analysis,
          context: p.context,
          db: start.db,
          service: this.source.service,
          now: Date.now(),
          paramCount: start.params?.length,
        });
        p.decision = d;
        this.encodeStatementParams(p);
        if (d.action === 'block') throw blockedError(d);
        if (d.override) this.emitOverride(p, d.override);
        if (d.alerts.length > 0) this.alert(p, d.alerts, undefined);
        return;
      }
    } catch (err) {
      if (err instanceof QuerytrailError) {
        if (!statement.params) this.encodeStatementParams(p);
        const blockedId = this.emitBlocked(p, err);
        Object.defineProperty(err, kRecorded, { value: true });
        if (p.decision && p.decision.alerts.length > 0) this.alert(p, p.decision.alerts, blockedId);
      }
      throw err;
    }
    this.encodeStatementParams(p);
  }

  /** Values bound to sensitive columns are never written raw, whatever the params mode. */
  private encodeStatementParams(p: PendingStatement): void {
    const sensitive = (p.decision?.sensitiveParamIndexes?.length ?? 0) > 0;
    const params = sensitive && this.paramsMode === 'raw' ? this.hashParams(p.start.params) : this.encodeParams(p.start.params);
    if (params) p.statement.params = params;
  }

  /** Shared by every capture (no closure per statement); undefined without a policy. */
  private readonly bulkOf: ((p: PendingStatement) => BulkStatementCounter | undefined) | undefined = (p) => this.bulkCounter(p);

  private bulkCounter(p: PendingStatement): BulkStatementCounter | undefined {
    const d = p.decision;
    if (!this.policy || !d?.bulk) return undefined;
    const cache = p as PendingStatement & { counter?: BulkStatementCounter };
    cache.counter ??= this.policy.bulk.statement(d.actorKey, d.bulk.objects);
    return cache.counter;
  }

  /** policy.alert events (evidence) and the onAlert hooks (notification, off the query path). */
  alert(p: PendingStatement, alerts: readonly AlertInfo[], statementEventId: string | undefined): void {
    for (const alert of alerts) {
      const event: QuerytrailEvent = {
        schema: EVENT_SCHEMA,
        event_id: uuidv7(),
        type: 'policy.alert',
        time: formatMicros(nowMicros()),
        integrity: undefined,
        source: this.source,
        ...statementFields(p),
        alert,
        ...(statementEventId === undefined ? {} : { statement_event_id: statementEventId }),
      };
      this.emit(event);
      this.policy?.alerts.dispatch(alert, Object.freeze({ ...event }));
    }
  }

  private emitOverride(p: PendingStatement, override: { reason: string; rule_id: string }): void {
    this.emit({
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type: 'policy.override',
      time: formatMicros(nowMicros()),
      integrity: undefined,
      source: this.source,
      ...statementFields(p),
      policy: { ...p.decision!.decision, decision: 'allow_override', rule_id: override.rule_id, reason: override.reason },
    });
  }

  connection(type: 'db.connect' | 'db.disconnect', db: DbInfo, openIntrospection?: OpenIntrospection): void {
    if (type === 'db.disconnect') this.catalogs.disconnected(db);
    else if (openIntrospection) this.catalogs.connected(db, openIntrospection);
    const context = this.currentContext();
    const t = formatMicros(nowMicros());
    this.emit({
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type,
      time: t,
      integrity: undefined,
      source: this.source,
      ...(context?.actor ? { actor: context.actor } : {}),
      db,
    });
  }

  recordingFailed(failure: RecordingFailure): void {
    try {
      const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
      const context = this.currentContext();
      const start = failure.start;
      const text = typeof start?.text === 'string' ? start.text : undefined;
      const truncated = text !== undefined && text.length > this.maxText;
      this.emit({
        schema: EVENT_SCHEMA,
        event_id: uuidv7(),
        type: 'sink.gap',
        time: formatMicros(nowMicros()),
        integrity: undefined,
        source: this.source,
        ...(context?.actor ? { actor: context.actor } : {}),
        ...(context?.request ? { request: context.request } : {}),
        ...(start?.db ? { db: start.db } : {}),
        ...(text === undefined
          ? {}
          : { statement: { class: 'unknown', command: 'unknown', text: truncated ? text.slice(0, this.maxText) : text, ...(truncated ? { truncated: true } : {}) } }),
        gap: {
          // One record that could not be kept: the statement's db.query, or the event the operation was writing.
          count: 1,
          cause: `querytrail ${failure.driver} ${failure.operation} failed${failure.unaudited ? ': the statement was sent without its db.query record' : ''}: ${message}`,
        },
      });
    } catch {
      // The drivers also warn on the process; nothing here may break the application's query.
    }
  }

  // ---- events --------------------------------------------------------------------------------

  emit(event: QuerytrailEvent): void {
    this.notify(event);
    this.journal?.append(event);
  }

  /** Hot path: the journal builds the record's line itself; the event object exists only for listeners. */
  emitRecord(record: JournalRecord): void {
    if (this.listeners.size > 0) this.notify(record.toEvent());
    this.journal?.append(record);
  }

  private notify(event: QuerytrailEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener never breaks a query.
      }
    }
  }

  /** Subscribe to every event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits until everything emitted so far is in the journal. */
  async flush(): Promise<void> {
    // Statements sent before the parsers loaded are emitted once they have: those count as "so far".
    await this.analyzersLoaded;
    await this.journal?.flush();
  }

  /** Writes sdk.stop, flushes and fsyncs the journal. Idempotent. */
  close(): Promise<void> {
    if (this.onBeforeExit) {
      process.removeListener('beforeExit', this.onBeforeExit);
      this.onBeforeExit = undefined;
    }
    this.closing ??= (async () => {
      await this.analyzersLoaded; // statements waiting for the parsers are emitted before sdk.stop
      await this.catalogs.close(); // so are those of a catalog read under way
      await this.policy?.alerts.idle();
      this.emitLifecycle('sdk.stop');
      await this.journal?.close();
      if (this.sinkDelivery) {
        // The journal is closed first, so its final checkpoint and last segment are delivered too.
        // Whatever is not delivered in time stays on disk and goes out from the cursor on the next start.
        this.sinkDelivery.journalClosed();
        await this.sinkDelivery.drain(this.sinkCloseTimeoutMs);
        await this.sinkDelivery.close(Math.min(1000, this.sinkCloseTimeoutMs));
      }
    })();
    return this.closing;
  }

  /** Resolves once every sink has started; rejects with a sink's start error (e.g. ConfigError: an S3 bucket without Object Lock). */
  sinksReady(): Promise<void> {
    return this.sinksStarted ?? Promise.resolve();
  }

  /** Resolves when the SQL parsers are loaded: from then on every statement is analysed when it is sent. */
  ready(): Promise<void> {
    return this.analyzersLoaded;
  }

  afterAnalyzers(fn: () => void): void {
    if (this.analyzersSettled) fn();
    else void this.analyzersLoaded.then(fn);
  }

  analyze(text: string | undefined, db: DbInfo): Analysis {
    return describe(this.analyzer, text, db.system, this.catalogs.get(db)).analysis;
  }

  succeeded(db: DbInfo, analysis: Analysis): void {
    this.catalogs.afterStatement(db, analysis);
  }

  /** Re-reads the table catalog of every database it was introspected from. */
  refreshCatalog(): Promise<void> {
    return this.catalogs.refresh();
  }

  /** Only texts that PREPARE, EXECUTE or DEALLOCATE pay for per-connection tracking. */
  private trackPrepared(connection: object, db: DbInfo, analysis: Analysis): Analysis {
    if (!analysis.commands.some((c) => c === 'PREPARE' || c === 'EXECUTE' || c === 'DEALLOCATE' || c.startsWith('DISCARD'))) return analysis;
    let tracker = this.prepared.get(connection);
    if (!tracker) {
      tracker = new PreparedStatementTracker({ dialect: dialectOf(db.system) });
      this.prepared.set(connection, tracker);
    }
    return tracker.apply(analysis);
  }

  /** A statement refused before it was sent: its own record, db.query.blocked. */
  private emitBlocked(p: PendingStatement, err: QuerytrailError): string {
    const policy =
      p.decision?.decision ??
      (err instanceof QueryBlockedError
        ? { decision: 'block' as const, mode: 'enforce' as const, reason: err.reason, ...(err.ruleId ? { rule_id: err.ruleId } : {}) }
        : undefined);
    const eventId = uuidv7();
    this.emit({
      schema: EVENT_SCHEMA,
      event_id: eventId,
      type: 'db.query.blocked',
      time: formatMicros(nowMicros()),
      integrity: undefined,
      source: this.source,
      ...statementFields(p),
      result: { outcome: 'blocked', error: { code: err.code, message: err.message } },
      ...(policy ? { policy } : {}),
    });
    return eventId;
  }

  /** Sync mode: the attempt record, durable before the statement may be sent (group commit). */
  private writeAttemptIfSync(p: PendingStatement): { attemptId: string; written: Promise<void> } | undefined {
    if (!this.journal || this.delivery === 'async' || (this.delivery === 'auto' && !needsEvidenceFirst(p))) return undefined;
    const attempt = new AttemptRecord(this.source, p);
    if (this.listeners.size > 0) this.notify(attempt.toEvent());
    return { attemptId: attempt.eventId, written: this.journal.appendDurable(attempt) };
  }

  /**
   * The stored context, completed by the contextProvider when it names no actor: an ORM plugin that
   * only adds `orm` must not hide the actor a cls-hooked app keeps elsewhere.
   */
  private currentContext(): AuditContext | undefined {
    const stored = contextStore.getStore();
    if (!this.contextProvider || stored?.actor) return stored;
    let provided: AuditContext | undefined;
    try {
      provided = this.contextProvider();
    } catch {
      return stored;
    }
    if (!provided) return stored;
    return stored ? { ...provided, ...stored } : provided;
  }

  private emitLifecycle(type: EventType): void {
    this.emit({
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type,
      time: formatMicros(nowMicros()),
      integrity: undefined,
      source: this.source,
    });
  }
}

/**
 * 'auto' delivery: evidence first where an incident would need it — destructive, privileged, dynamic
 * or unanalysable statements, and anything touching sensitive columns — full speed elsewhere.
 */
function needsEvidenceFirst(p: PendingStatement): boolean {
  const a = p.analysis;
  if (a.destructive) return true;
  if (a.kind === 'ddl' || a.kind === 'dcl' || a.kind === 'admin' || a.kind === 'exec' || a.kind === 'unknown') return true;
  return (p.decision?.sensitivity?.matched.length ?? 0) > 0 || p.decision?.override !== undefined;
}

/** Creates an auditor. Options are validated here: a bad option throws ConfigError naming its path. */
export function createAuditor(options: AuditorOptions): Auditor {
  return new Auditor(options);
}
