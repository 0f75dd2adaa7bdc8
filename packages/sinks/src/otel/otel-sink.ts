import { ConfigError, type QuerytrailEvent, type Sink, type SinkBatch, type SinkRecord, type SinkWriteResult } from '@querytrail/core';
import type { AnyValueMap, Logger, LogRecord } from '@opentelemetry/api-logs';
import { parseEvent } from '../common/format.js';
import { optionalOneOf, requireObject, sinkName } from '../common/settings.js';
import { toOcsf } from '../ocsf/to-ocsf.js';
import { eventAttributes } from './attributes.js';

export interface OtelLogsSinkOptions {
  /** A Logger from @opentelemetry/api-logs (e.g. loggerProvider.getLogger('querytrail')). */
  logger: Logger;
  /**
   * Log record body: 'event' (default) the event as a structured map; 'line' the journal line itself
   * (exact bytes: a copy that survives the pipeline intact still verifies); 'ocsf' the OCSF 1.1
   * Datastore Activity object (datastore events only).
   */
  body?: 'event' | 'line' | 'ocsf';
  /** Alias of body: 'ocsf', as on the stdout sink. */
  format?: 'line' | 'ocsf';
  /** Called by flush()/close(), e.g. () => loggerProvider.forceFlush(). */
  flush?: () => Promise<void>;
  /** Cursor name. Default 'otel'. */
  name?: string;
}

// SeverityNumber values (api-logs enum), inlined so this module needs api-logs for types only.
const INFO = 9;
const WARN = 13;
const ERROR = 17;

function severity(e: QuerytrailEvent): [number, string] {
  if (e.type === 'sink.gap') return [ERROR, 'ERROR'];
  if (e.result?.outcome === 'blocked' || e.result?.outcome === 'failure' || e.type === 'policy.override' || e.type === 'policy.alert') return [WARN, 'WARN'];
  return [INFO, 'INFO'];
}

/** RFC 3339 with microseconds → OpenTelemetry HrTime [seconds, nanoseconds], keeping the microseconds. */
function hrTime(rfc3339: string): [number, number] | undefined {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339);
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}${m[3]}`) / 1000;
  if (Number.isNaN(seconds)) return undefined;
  return [seconds, Number((m[2] ?? '').padEnd(9, '0'))];
}

/**
 * Emits each journal record as an OpenTelemetry log record, for existing log pipelines. Not evidence:
 * a Logger cannot report what its exporter dropped, so every write is "accepted" (docs/sinks.md).
 */
export function otelLogsSink(options: OtelLogsSinkOptions): Sink {
  const o = requireObject(options, 'otel');
  const logger = o.logger as Logger | undefined;
  if (typeof logger?.emit !== 'function') throw new ConfigError('otel.logger', 'expected a Logger from @opentelemetry/api-logs (loggerProvider.getLogger(...))');
  const format = optionalOneOf(o, 'format', 'otel', ['line', 'ocsf'] as const);
  const body = optionalOneOf(o, 'body', 'otel', ['event', 'line', 'ocsf'] as const) ?? (format === 'ocsf' ? 'ocsf' : format === 'line' ? 'line' : 'event');
  if (o.flush !== undefined && typeof o.flush !== 'function') throw new ConfigError('otel.flush', 'expected a function returning a promise');
  const flush = (o.flush as (() => Promise<void>) | undefined) ?? (async () => {});
  const name = sinkName(o, 'otel', 'otel');

  const toLogRecord = (r: SinkRecord): LogRecord | undefined => {
    const parsed = parseEvent(r.line);
    if (r.kind === 'checkpoint') {
      if (body === 'ocsf') return undefined;
      const cp = parsed as unknown as { time?: string } | undefined;
      const t = cp?.time ? hrTime(cp.time) : undefined;
      return {
        eventName: 'querytrail.checkpoint',
        ...(t ? { timestamp: t } : {}),
        severityNumber: INFO,
        severityText: 'INFO',
        body: body === 'line' || !parsed ? r.line : (parsed as unknown as AnyValueMap),
        attributes: { 'querytrail.record.kind': 'checkpoint', 'querytrail.chain_id': r.chainId, 'querytrail.dedup_id': r.dedupId },
      };
    }
    if (!parsed) {
      // A damaged line still goes out as it is: the pipeline should see it.
      return { eventName: 'querytrail.unparsable', severityNumber: ERROR, severityText: 'ERROR', body: r.line, attributes: { 'querytrail.dedup_id': r.dedupId } };
    }
    let payload: LogRecord['body'];
    if (body === 'ocsf') {
      const ocsf = toOcsf(parsed);
      if (!ocsf) return undefined;
      payload = ocsf as unknown as AnyValueMap;
    } else {
      payload = body === 'line' ? r.line : (parsed as unknown as AnyValueMap);
    }
    const [num, text] = severity(parsed);
    const t = hrTime(parsed.time);
    return {
      eventName: parsed.type,
      ...(t ? { timestamp: t } : {}),
      severityNumber: num,
      severityText: text,
      body: payload,
      attributes: eventAttributes(parsed),
    };
  };

  return {
    name,
    accepts: 'records',
    async write(batch: SinkBatch): Promise<SinkWriteResult> {
      if (batch.type !== 'records') return {};
      for (const r of batch.records) {
        const rec = toLogRecord(r);
        if (rec) logger!.emit(rec);
      }
      return {};
    },
    flush,
    close: flush,
  };
}
