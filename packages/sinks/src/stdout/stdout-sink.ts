import type { Sink, SinkBatch, SinkWriteResult } from '@querytrail/core';
import { type RecordFormat, formatRecord } from '../common/format.js';
import { optionalOneOf, requireObject, sinkName } from '../common/settings.js';
import { ConfigError } from '@querytrail/core';

/** The part of a Node.js Writable this sink uses. */
export interface LineStream {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
  /** Node streams: once destroyed, a write would never call back. */
  readonly destroyed?: boolean;
}

export interface StdoutSinkOptions {
  /** Where NDJSON goes. Default process.stdout. */
  stream?: LineStream;
  /** 'line' (default): every journal line as written, events and checkpoints; 'ocsf': OCSF 1.1 Datastore Activity objects. */
  format?: RecordFormat;
  /** Cursor name. Default 'stdout'. */
  name?: string;
}

/**
 * NDJSON to a stream, for existing log pipelines. Not evidence: whatever reads the stream can drop,
 * reorder or rewrite lines (docs/sinks.md).
 */
export function stdoutSink(options: StdoutSinkOptions = {}): Sink {
  const o = requireObject(options, 'stdout');
  const format = optionalOneOf(o, 'format', 'stdout', ['line', 'ocsf'] as const) ?? 'line';
  const name = sinkName(o, 'stdout', 'stdout');
  if (o.stream !== undefined && typeof (o.stream as LineStream | null)?.write !== 'function') throw new ConfigError('stdout.stream', 'expected a writable stream');
  const stream = (o.stream as LineStream | undefined) ?? process.stdout;

  return {
    name,
    accepts: 'records',
    async write(batch: SinkBatch): Promise<SinkWriteResult> {
      if (batch.type !== 'records') return {};
      let text = '';
      for (const r of batch.records) {
        const line = formatRecord(r, format);
        if (line !== undefined) text += `${line}\n`;
      }
      if (text.length === 0) return {};
      if (stream.destroyed) throw new Error('the output stream is closed');
      // One write per batch; resolved once the stream took it (backpressure holds the engine, not memory).
      await new Promise<void>((resolve, reject) => {
        stream.write(text, (err) => (err ? reject(err) : resolve()));
      });
      return {};
    },
    async flush() {},
    async close() {},
  };
}
