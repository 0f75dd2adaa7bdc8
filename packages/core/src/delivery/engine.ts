import { ConfigError } from '../errors.js';
import type { BackoffOptions } from './backoff.js';
import { CursorStore, type FilesCursor, type RecordsCursor } from './cursor-store.js';
import { FileSource } from './file-source.js';
import { RecordSource } from './record-source.js';
import type { Sink } from './sink.js';
import { SinkLoop } from './sink-loop.js';

export interface DeliveryOptions {
  /** The journal directory (journal.dir). Cursors live in `<dir>/.cursors/<sink>.json`. */
  dir: string;
  sinks: readonly Sink[];
  /** How often an idle sink looks for new journal data (ms). Default 250. */
  pollIntervalMs?: number;
  /** Retry delays after a failed write: exponential from initialMs (100) to maxMs (30,000), full jitter. */
  backoff?: BackoffOptions;
  /** Write failures, throttling and cursor problems. Default: a process warning with code QUERYTRAIL_SINK. */
  onError?: (error: Error) => void;
}

export interface Delivery {
  /** Calls each sink's start() and starts its loop. Rejects with the first sink's error (e.g. ConfigError); the other sinks run. */
  start(): Promise<void>;
  /**
   * Resolves true once every sink has delivered everything in the journal at the time of the call
   * (including files sealed by then), false if that did not happen within timeoutMs (default 30 s).
   */
  drain(timeoutMs?: number): Promise<boolean>;
  /** The journal in `dir` has closed: its newest segment is sealed, and 'files' sinks may ship it. */
  journalClosed(): void;
  /** Stops the loops (after the write in flight, at most closeTimeoutMs), then flushes and closes each sink. Cursors are on disk already. */
  close(closeTimeoutMs?: number): Promise<void>;
}

const SINK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const defaultOnError = (e: Error): void => {
  process.emitWarning(e.message, { code: 'QUERYTRAIL_SINK' });
};

/** Checks sinks the way createAuditor reports them: ConfigError naming `<path>[i].<field>`. */
export function validateSinks(sinks: unknown, path = 'sinks'): readonly Sink[] {
  if (!Array.isArray(sinks)) throw new ConfigError(path, 'expected an array of sinks (from @querytrail/sinks/...)');
  const names = new Set<string>();
  sinks.forEach((s: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof s !== 'object' || s === null) throw new ConfigError(at, 'expected a sink object');
    const o = s as Record<string, unknown>;
    if (typeof o.name !== 'string' || !SINK_NAME.test(o.name)) {
      throw new ConfigError(`${at}.name`, 'expected a name of letters, digits, ".", "_" or "-" (it names the sink\'s cursor file)');
    }
    if (names.has(o.name)) throw new ConfigError(`${at}.name`, `duplicate sink name ${JSON.stringify(o.name)}: each sink needs its own cursor`);
    names.add(o.name);
    if (o.accepts !== 'records' && o.accepts !== 'files') throw new ConfigError(`${at}.accepts`, "expected 'records' or 'files'");
    for (const k of ['write', 'flush', 'close'] as const) {
      if (typeof o[k] !== 'function') throw new ConfigError(`${at}.${k}`, 'expected a function');
    }
    if (o.start !== undefined && typeof o.start !== 'function') throw new ConfigError(`${at}.start`, 'expected a function');
    for (const k of ['maxBatch', 'maxBatchBytes'] as const) {
      if (o[k] !== undefined && !(Number.isInteger(o[k]) && (o[k] as number) > 0)) throw new ConfigError(`${at}.${k}`, 'expected a positive integer');
    }
  });
  return sinks as readonly Sink[];
}

/**
 * Ships the journal in `dir` to sinks: one loop and one durable cursor per sink, at-least-once,
 * with backoff. See docs/sinks.md.
 */
export function createDelivery(options: DeliveryOptions): Delivery {
  if (typeof options?.dir !== 'string' || options.dir.length === 0) throw new ConfigError('dir', 'expected the journal directory');
  const sinks = validateSinks(options.sinks);
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) throw new ConfigError('pollIntervalMs', 'expected a positive number of milliseconds');
  const backoff = options.backoff ?? {};
  for (const k of ['initialMs', 'maxMs'] as const) {
    const v = backoff[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) throw new ConfigError(`backoff.${k}`, 'expected a positive number of milliseconds');
  }
  const onError = options.onError ?? defaultOnError;
  const dir = options.dir;
  const loops: SinkLoop[] = [];
  const fileSources: FileSource[] = [];
  let closedJournal = false;
  let starting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const startSink = async (sink: Sink): Promise<void> => {
    const store = new CursorStore(dir, sink.name);
    const cursor = store.load(sink.accepts); // a damaged cursor file is a start error, naming the file
    await sink.start?.();
    const limits = {
      maxEntries: sink.maxBatch ?? (sink.accepts === 'records' ? 500 : 16),
      maxBytes: sink.maxBatchBytes ?? 1024 * 1024,
    };
    const loopOptions = { pollIntervalMs, backoff, onError };
    let loop: SinkLoop;
    if (sink.accepts === 'records') {
      const warn = (m: string) => onError(new Error(`querytrail sink "${sink.name}": ${m}`));
      loop = new SinkLoop(sink, new RecordSource(dir, store, cursor as RecordsCursor, limits, warn), loopOptions);
    } else {
      const source = new FileSource(dir, sink.name, store, cursor as FilesCursor, limits);
      if (closedJournal) source.markJournalClosed();
      fileSources.push(source);
      loop = new SinkLoop(sink, source, loopOptions);
    }
    if (closing) return;
    loops.push(loop);
    loop.start();
  };

  return {
    start() {
      starting ??= (async () => {
        const results = await Promise.allSettled(sinks.map((s) => startSink(s)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return starting;
    },

    async drain(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((r) => {
        // Not unref'd: whoever awaits drain() (e.g. auditor.close()) keeps the process alive until it settles.
        timer = setTimeout(() => r(false), timeoutMs);
      });
      // A sink that did not start has delivered nothing: false, once the others have caught up.
      const all = (starting ?? Promise.resolve())
        .catch(() => undefined) // a sink.start() that hangs (a server down) counts against the timeout too
        .then(() => Promise.all(loops.map((l) => l.caughtUp())))
        .then(() => loops.length === sinks.length);
      try {
        return await Promise.race([all, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    journalClosed() {
      closedJournal = true;
      for (const s of fileSources) s.markJournalClosed();
    },

    close(closeTimeoutMs = 5000) {
      closing ??= (async () => {
        if (starting) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([starting.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, closeTimeoutMs)))]);
          clearTimeout(timer);
        }
        await Promise.all(loops.map((l) => l.stop(closeTimeoutMs)));
        await Promise.all(
          sinks.map(async (sink) => {
            for (const step of ['flush', 'close'] as const) {
              try {
                await sink[step]();
              } catch (err) {
                onError(new Error(`querytrail sink "${sink.name}": ${step}() failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
              }
            }
          }),
        );
      })();
      return closing;
    },
  };
}
