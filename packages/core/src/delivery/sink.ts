/**
 * The one contract every sink implements (docs/sinks.md). A sink never sees the query path: the
 * delivery engine reads the local journal through the sink's own durable cursor and hands it batches.
 * Delivery is at least once; receivers dedup by event_id (records) or by object name (files).
 */

/** One journal line, exactly as written (what `querytrail verify` hashes), plus where it came from. */
export interface SinkRecord {
  /** 'event' for a segment line, 'checkpoint' for a line of qt-<chain>.checkpoints.jsonl. */
  readonly kind: 'event' | 'checkpoint';
  /** The line's bytes as UTF-8 text, without the trailing newline. */
  readonly line: string;
  readonly chainId: string;
  /** event_id for events; `checkpoint:<chain_id>:<index>` for checkpoints. Stable across resends. */
  readonly dedupId: string;
  /** The file the line was read from (a segment or the chain's checkpoint file). */
  readonly file: string;
}

/** A file the journal will never change again: a sealed segment, or a snapshot of a checkpoint file. */
export interface SinkFile {
  readonly kind: 'segment' | 'checkpoints';
  readonly chainId: string;
  /** File name inside the journal directory (e.g. qt-<chain>-000001.jsonl). */
  readonly name: string;
  /**
   * Where to read it. For a segment, the journal's own file; for 'checkpoints', a private copy of
   * the checkpoint file's complete lines made for this batch (the live file keeps growing).
   */
  readonly path: string;
  /** Size in bytes: the whole file to ship (read exactly this many bytes from path). */
  readonly bytes: number;
}

export type SinkBatch =
  | { readonly type: 'records'; readonly records: readonly SinkRecord[] }
  | { readonly type: 'files'; readonly files: readonly SinkFile[] };

export interface SinkWriteResult {
  /** Indices (into records or files) that were not accepted: only these are resent. Absent or empty: all accepted. */
  readonly failed?: readonly number[];
  /** The receiver asked to slow down (throttling): wait at least this long before the next write. */
  readonly retryAfterMs?: number;
}

/**
 * A write may also throw an error carrying `retryAfterMs` (e.g. a throttling response): the engine
 * then waits at least that long, and at least its own backoff, before resending the batch.
 */
export interface SinkThrottleError extends Error {
  readonly retryAfterMs?: number;
}

export interface Sink {
  /** Unique per journal directory: names the sink's cursor file. */
  readonly name: string;
  /** Whether the sink takes journal lines as they are written, or whole sealed files. */
  readonly accepts: 'records' | 'files';
  /** Largest batch the sink wants (records or files). The engine never exceeds it. */
  readonly maxBatch?: number;
  /** Largest batch in bytes ('records': sum of line bytes + 1 per newline). Default 1 MiB. A single longer line still goes alone. */
  readonly maxBatchBytes?: number;
  /** Called once before the first write; may refuse to run (throw ConfigError) e.g. a bucket without Object Lock. */
  start?(): Promise<void>;
  /** Throws for a whole-batch failure (retried with backoff and jitter); returns per-entry failures otherwise. */
  write(batch: SinkBatch): Promise<SinkWriteResult>;
  /** Pushes out anything the sink itself buffers. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
