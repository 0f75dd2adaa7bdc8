import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createParamsEncoder, type ParamsEncoder } from '../capture/params.js';
import { type Analysis, type Analyzer, createAnalyzer, loadAnalyzers, PreparedStatementTracker } from '../analysis/index.js';
import { CatalogRegistry } from './catalogs.js';
import { applyAnalysis, describe, dialectOf, objectsOf } from '../capture/describe.js';
import type { CaptureRuntime } from '../capture/runtime.js';
import { StatementCapture } from '../capture/statement-capture.js';
import type { StatementHandle, StatementRecorder, StatementStart } from '../capture/types.js';
import { type ContextResolver, expressMiddleware, fastifyPlugin, type HttpRequestLike } from '../context/http.js';
import { contextStore, runWithContext } from '../context/store.js';
import { activeTrace } from '../context/trace.js';
import type { AuditContext, ContextProvider } from '../context/types.js';
import { formatMicros, nowMicros } from '../event/clock.js';
import type { DbInfo, DbSystem, EventType, QuerytrailEvent, SourceInfo, StatementInfo, TraceInfo } from '../event/types.js';
import { QueryBlockedError, QuerytrailError } from '../errors.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import { SDK_VERSION } from '../event/version.js';
import { Journal } from '../journal/journal.js';
import { instrumentMysql2 } from '../drivers/mysql2/instrument.js';
import { instrumentPg } from '../drivers/pg/instrument.js';
import { type AuditorOptions, validateOptions } from './options.js';

export type EventListener = (event: QuerytrailEvent) => void;

/** Test and extension seam: runs in begin() and may throw to refuse a statement (policy plugs in here). */
export const kStatementGate = Symbol.for('querytrail.statementGate');
export type StatementGate = (start: StatementStart, statement: StatementInfo, context: AuditContext | undefined) => void;

export class Auditor implements StatementRecorder, CaptureRuntime {
  readonly source: SourceInfo;
  readonly journal: Journal | undefined;
  private readonly listeners = new Set<EventListener>();
  private readonly encodeParams: ParamsEncoder;
  private readonly maxText: number;
  private readonly contextProvider: ContextProvider | undefined;
  private readonly syncMode: boolean;
  private readonly analyzer: Analyzer;
  private readonly analyzersLoaded: Promise<void>;
  private analyzersSettled = false;
  private readonly catalogs: CatalogRegistry;
  /** PREPARE name → body, per connection: EXECUTE name is judged by what it runs. */
  private readonly prepared = new WeakMap<object, PreparedStatementTracker>();
  private closing: Promise<void> | undefined;
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
    this.encodeParams = createParamsEncoder(options.params, randomBytes(32));
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
    this.syncMode = options.journal !== false && options.journal.mode === 'sync';
    this.emitLifecycle('sdk.start');
  }

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

  // ---- StatementRecorder ---------------------------------------------------------------------

  begin(start: StatementStart): StatementHandle {
    const context = this.currentContext();
    const trace = activeTrace();
    const text = typeof start.text === 'string' ? start.text : undefined;
    const described = describe(this.analyzer, text, start.db.system, this.catalogs.get(start.db));
    const { provisional } = described;
    const analysis = start.connection ? this.trackPrepared(start.connection, start.db, described.analysis) : described.analysis;
    const statement: StatementInfo = { class: 'unknown', command: 'UNKNOWN' };
    applyAnalysis(statement, analysis);
    if (text !== undefined) {
      if (text.length > this.maxText) {
        statement.text = text.slice(0, this.maxText);
        statement.truncated = true;
      } else {
        statement.text = text;
      }
    }
    if (start.preparedName !== undefined) statement.prepared_name = start.preparedName;
    const params = this.encodeParams(start.params);
    if (params) statement.params = params;
    try {
      this[kStatementGate]?.(start, statement, context);
    } catch (err) {
      if (err instanceof QuerytrailError) this.emitBlocked(start, context, trace, statement, analysis, err);
      throw err;
    }
    const durable = this.journal && this.syncMode ? this.writeAttempt(start, context, trace, statement) : undefined;
    return new StatementCapture(this, start, context, trace, statement, analysis, provisional, durable);
  }

  connection(type: 'db.connect' | 'db.disconnect', db: DbInfo, query?: (sql: string) => Promise<Array<Record<string, unknown>>>): void {
    if (query && type === 'db.connect') this.catalogs.connected(db, query);
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

  // ---- events --------------------------------------------------------------------------------

  emit(event: QuerytrailEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A listener never breaks a query.
      }
    }
    this.journal?.append(event);
  }

  /** Subscribe to every event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits until everything emitted so far is in the journal. */
  async flush(): Promise<void> {
    await this.journal?.flush();
  }

  /** Writes sdk.stop, flushes and fsyncs the journal. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.analyzersLoaded; // statements waiting for the parsers are emitted before sdk.stop
      this.emitLifecycle('sdk.stop');
      await this.journal?.close();
    })();
    return this.closing;
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
  private emitBlocked(
    start: StatementStart,
    context: AuditContext | undefined,
    trace: TraceInfo | undefined,
    statement: StatementInfo,
    analysis: Analysis,
    err: QuerytrailError,
  ): void {
    const objects = objectsOf(analysis);
    this.emit({
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type: 'db.query.blocked',
      time: formatMicros(nowMicros()),
      integrity: undefined,
      source: this.source,
      ...(context?.actor ? { actor: context.actor } : {}),
      ...(context?.request ? { request: context.request } : {}),
      ...(trace ? { trace } : {}),
      db: start.db,
      ...(context?.orm ? { orm: context.orm } : {}),
      statement,
      ...(objects ? { objects } : {}),
      result: { outcome: 'blocked', error: { code: err.code, message: err.message } },
      ...(err instanceof QueryBlockedError
        ? { policy: { decision: 'block' as const, mode: 'enforce' as const, reason: err.reason, ...(err.ruleId ? { rule_id: err.ruleId } : {}) } }
        : {}),
    });
  }

  /** Sync mode: the attempt record, durable before the statement may be sent (group commit). */
  private writeAttempt(start: StatementStart, context: AuditContext | undefined, trace: TraceInfo | undefined, statement: StatementInfo) {
    const attemptId = uuidv7();
    const written = this.journal!.appendDurable({
      schema: EVENT_SCHEMA,
      event_id: attemptId,
      type: 'db.query.attempt',
      time: formatMicros(nowMicros()),
      integrity: undefined,
      source: this.source,
      ...(context?.actor ? { actor: context.actor } : {}),
      ...(context?.request ? { request: context.request } : {}),
      ...(trace ? { trace } : {}),
      db: start.db,
      ...(context?.orm ? { orm: context.orm } : {}),
      statement,
    });
    return { attemptId, written };
  }

  private currentContext(): AuditContext | undefined {
    const stored = contextStore.getStore();
    if (stored || !this.contextProvider) return stored;
    try {
      return this.contextProvider();
    } catch {
      return undefined;
    }
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

/** Creates an auditor. Options are validated here: a bad option throws ConfigError naming its path. */
export function createAuditor(options: AuditorOptions): Auditor {
  return new Auditor(options);
}
