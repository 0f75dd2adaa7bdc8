import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createParamsEncoder, type ParamsEncoder } from '../capture/params.js';
import { classifyByLeadingKeyword } from '../capture/leading-keyword.js';
import type { CaptureRuntime } from '../capture/runtime.js';
import { StatementCapture } from '../capture/statement-capture.js';
import type { StatementHandle, StatementRecorder, StatementStart } from '../capture/types.js';
import { expressMiddleware, fastifyPlugin, type ContextResolver } from '../context/http.js';
import { contextStore, runWithContext } from '../context/store.js';
import { activeTrace } from '../context/trace.js';
import type { AuditContext, ContextProvider } from '../context/types.js';
import { formatMicros, nowMicros } from '../event/clock.js';
import type { DbInfo, EventType, QuerytrailEvent, SourceInfo, StatementInfo } from '../event/types.js';
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
    if (options.onEvent) this.listeners.add(options.onEvent);
    this.journal = options.journal === false ? undefined : new Journal(options.journal, this.source);
    this.emitLifecycle('sdk.start');
  }

  // ---- context -------------------------------------------------------------------------------

  runWithContext<R>(context: AuditContext, fn: () => R): R {
    return runWithContext(context, fn);
  }

  /** Express middleware; `resolve` maps a request to its actor (the app owns authentication). */
  express(resolve?: ContextResolver<never>) {
    return expressMiddleware(resolve);
  }

  /** Fastify plugin: `app.register(auditor.fastify(req => ({ actor })))`. */
  fastify(resolve?: ContextResolver<never>) {
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
    const { class: cls, command } = classifyByLeadingKeyword(text);
    const statement: StatementInfo = { class: cls, command };
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
    this[kStatementGate]?.(start, statement, context);
    return new StatementCapture(this, start, context, trace, statement);
  }

  connection(type: 'db.connect' | 'db.disconnect', db: DbInfo): void {
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
      this.emitLifecycle('sdk.stop');
      await this.journal?.close();
    })();
    return this.closing;
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
