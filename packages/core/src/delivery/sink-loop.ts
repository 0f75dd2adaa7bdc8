import { Backoff, type BackoffOptions } from './backoff.js';
import type { Sink, SinkBatch, SinkFile, SinkRecord, SinkWriteResult } from './sink.js';
import type { DeliverySource, PendingBatch } from './source.js';

/** An interruptible wait: close() and drain() cut idle polls short; close() cuts backoff short too. */
class Sleeper {
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private kind: 'idle' | 'backoff' | undefined;

  sleep(ms: number, kind: 'idle' | 'backoff'): Promise<void> {
    return new Promise<void>((resolve) => {
      this.kind = kind;
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
      this.timer.unref(); // delivery never keeps the process alive on its own
    }).finally(() => {
      clearTimeout(this.timer);
      this.wake = undefined;
      this.kind = undefined;
    });
  }

  /** Ends the current wait (only an idle one, unless `always`). */
  interrupt(always: boolean): void {
    if (this.wake && (always || this.kind === 'idle')) this.wake();
  }
}

export interface SinkLoopOptions {
  pollIntervalMs: number;
  backoff: BackoffOptions;
  onError: (error: Error) => void;
}

/**
 * One sink's delivery loop: read from its cursor, write, resend only what failed (with backoff and
 * full jitter, honouring retryAfterMs), advance the cursor only past accepted entries. Each sink has
 * its own loop, so a slow or dead sink never delays another.
 */
export class SinkLoop {
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly sleeper = new Sleeper();
  private readonly backoff: Backoff;
  /** Number of reads started, and the number of the last read that found nothing new. */
  private readsStarted = 0;
  private caughtUpAt = 0;
  private waiters: { after: number; resolve: () => void }[] = [];

  constructor(
    readonly sink: Sink,
    private readonly source: DeliverySource<SinkRecord> | DeliverySource<SinkFile>,
    private readonly options: SinkLoopOptions,
  ) {
    this.backoff = new Backoff(options.backoff);
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves once a read that started after this call found nothing left to deliver. */
  caughtUp(): Promise<void> {
    const after = this.readsStarted;
    if (this.caughtUpAt > after) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push({ after, resolve }));
    this.sleeper.interrupt(false);
    return p;
  }

  /** Stops after the write in flight (if any) settles, or after `timeoutMs`, whichever is first. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt(true);
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const readNo = ++this.readsStarted;
      let pending: PendingBatch<SinkRecord | SinkFile> | undefined;
      try {
        pending = await this.source.next();
      } catch (err) {
        this.report(`could not read the journal: ${message(err)}`, err);
        await this.sleeper.sleep(this.backoff.next(), 'backoff');
        continue;
      }
      if (!pending) {
        this.caughtUpAt = readNo;
        this.settleWaiters(readNo);
        await this.sleeper.sleep(this.options.pollIntervalMs, 'idle');
        continue;
      }
      if (await this.deliver(pending)) {
        try {
          await this.source.commit(pending.after);
        } catch (err) {
          // Not fatal: the entries were accepted; after a restart they are sent again (dedup by id).
          this.report(`could not save its cursor: ${message(err)}`, err);
        }
      }
    }
  }

  private settleWaiters(readNo: number): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (readNo > w.after) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Writes until every entry is accepted (true) or the loop is stopped (false). */
  private async deliver(pending: PendingBatch<SinkRecord | SinkFile>): Promise<boolean> {
    let remaining = pending.entries;
    while (remaining.length > 0) {
      if (this.stopped) return false;
      let result: SinkWriteResult;
      try {
        result = await this.sink.write(this.batchOf(remaining));
      } catch (err) {
        const wait = this.backoff.next();
        const retryAfter = retryAfterOf(err);
        this.report(`write of ${remaining.length} entries failed (attempt ${this.backoff.failures}, retrying in ${Math.max(wait, retryAfter)} ms): ${message(err)}`, err);
        await this.sleeper.sleep(Math.max(wait, retryAfter), 'backoff');
        continue;
      }
      const failed = this.failedIndices(result, remaining.length);
      const retryAfter = validMs(result.retryAfterMs);
      if (failed.length === 0) {
        this.backoff.reset();
        if (retryAfter > 0) await this.sleeper.sleep(retryAfter, 'backoff');
        return true;
      }
      const sent = remaining.length;
      remaining = failed.map((i) => remaining[i]!);
      const wait = Math.max(this.backoff.next(), retryAfter);
      this.report(`${failed.length} of ${sent} entries were not accepted; resending only those in ${wait} ms`);
      await this.sleeper.sleep(wait, 'backoff');
    }
    return true;
  }

  private batchOf(entries: readonly (SinkRecord | SinkFile)[]): SinkBatch {
    return this.sink.accepts === 'records' ? { type: 'records', records: entries as SinkRecord[] } : { type: 'files', files: entries as SinkFile[] };
  }

  private failedIndices(result: SinkWriteResult | undefined, n: number): number[] {
    const failed = result?.failed;
    if (!failed || failed.length === 0) return [];
    const out = new Set<number>();
    for (const i of failed) {
      if (Number.isInteger(i) && i >= 0 && i < n) out.add(i);
      else {
        // A sink bug must not lose data: an index we cannot map means we cannot tell what was accepted.
        this.report(`returned failed index ${String(i)} outside 0..${n - 1}; resending the whole batch`);
        return Array.from({ length: n }, (_, k) => k);
      }
    }
    return [...out].sort((a, b) => a - b);
  }

  private report(text: string, cause?: unknown): void {
    const error = new Error(`querytrail sink "${this.sink.name}": ${text}`, cause === undefined ? undefined : { cause });
    try {
      this.options.onError(error);
    } catch {
      // A throwing error hook never stops delivery.
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function validMs(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, 3_600_000) : 0;
}

function retryAfterOf(err: unknown): number {
  return typeof err === 'object' && err !== null ? validMs((err as { retryAfterMs?: unknown }).retryAfterMs) : 0;
}
