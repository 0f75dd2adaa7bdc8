import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { formatMicros, nowMicros } from '../event/clock.js';
import type { GenesisInfo, QuerytrailEvent, SourceInfo } from '../event/types.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import { hashLine, ZERO_HASH } from './hash.js';
import { listSegments, readLastLine, segmentFileName } from './segment-files.js';

export interface JournalOptions {
  /** Directory of the segment files; created if missing. */
  dir: string;
  /** 'async' (default): the query path only enqueues; a writer appends batches off the hot path. */
  mode?: 'async';
  /** Start a new segment file once the current one reaches this size. Default 64 MiB. */
  segmentMaxBytes?: number;
  /** Bound on events waiting to be written; beyond it events are counted and a sink.gap record says so. Default 100,000. */
  maxQueuedEvents?: number;
  /** Called when a write fails (it is retried) or events had to be dropped. Default: a warning on stderr. */
  onError?: (error: Error) => void;
}

const NEWLINE = Buffer.from('\n');

/**
 * The local append-only journal: JSON lines in segment files, each record chained to the previous
 * one (chain_id, seq, prev_hash = SHA-256 of the previous line's bytes). See docs/integrity.md.
 */
export class Journal {
  readonly dir: string;
  readonly chainId: string;
  private readonly segmentMaxBytes: number;
  private readonly maxQueued: number;
  private readonly onError: (error: Error) => void;
  private queue: QuerytrailEvent[] = [];
  private seq = 0;
  private prevHash = ZERO_HASH;
  private segmentIndex = 0;
  private segmentBytes = 0;
  private file: FileHandle | undefined;
  private scheduled = false;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  private droppedSince: number | undefined;
  private closed = false;
  private retryDelayMs = 50;

  constructor(
    options: JournalOptions,
    private readonly source: SourceInfo,
  ) {
    this.dir = options.dir;
    this.segmentMaxBytes = options.segmentMaxBytes ?? 64 * 1024 * 1024;
    this.maxQueued = options.maxQueuedEvents ?? 100_000;
    this.onError =
      options.onError ?? ((e) => process.emitWarning(e.message, { code: 'QUERYTRAIL_JOURNAL' }));
    mkdirSync(this.dir, { recursive: true });
    const genesis = this.findPrevious();
    this.chainId = uuidv7();
    this.queue.push(this.genesisEvent(genesis));
  }

  /** Hot path: O(1), no I/O. The writer picks the event up on the next turn of the event loop. */
  append(event: QuerytrailEvent): void {
    if (this.closed) {
      this.countDropped(1);
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.countDropped(1);
    } else {
      this.queue.push(event);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Resolves when every event appended before the call is written (not necessarily fsync'd). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.writing || this.dropped > 0) {
      if (!this.writing) this.drain();
      await this.writing;
    }
  }

  /** Flushes, fsyncs and closes the current segment. Events appended afterwards are counted as lost. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    const f = this.file;
    this.file = undefined;
    if (f) {
      await f.sync();
      await f.close();
    }
  }

  get lastSeq(): number {
    return this.seq;
  }

  get lastHash(): string {
    return this.prevHash;
  }

  private countDropped(n: number): void {
    if (this.dropped === 0) this.droppedSince = nowMicros();
    this.dropped += n;
  }

  private drain(): void {
    this.scheduled = false;
    if (this.writing) return;
    if (this.queue.length === 0 && this.dropped === 0) return;
    this.writing = this.writeBatch().finally(() => {
      this.writing = undefined;
      if (this.queue.length > 0 || this.dropped > 0) this.drain();
    });
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (this.dropped > 0) {
      // Loss is itself evidence. Drops happen only while the queue is full, so after everything queued.
      batch.push(this.gapEvent(this.dropped, 'journal queue full'));
      this.onError(new Error(`querytrail journal dropped ${this.dropped} events: queue full`));
      this.dropped = 0;
    }
    const chunks: Buffer[] = [];
    let chunkBytes = 0;
    for (const event of batch) {
      this.seq += 1;
      event.integrity = { chain_id: this.chainId, seq: this.seq, prev_hash: this.prevHash };
      const line = Buffer.from(JSON.stringify(event), 'utf8');
      this.prevHash = hashLine(line);
      if (this.segmentBytes + chunkBytes > 0 && this.segmentBytes + chunkBytes + line.length + 1 > this.segmentMaxBytes) {
        await this.writeAll(chunks, chunkBytes);
        chunks.length = 0;
        chunkBytes = 0;
        await this.rotate();
      }
      chunks.push(line, NEWLINE);
      chunkBytes += line.length + 1;
    }
    await this.writeAll(chunks, chunkBytes);
  }

  /** Writes until every byte is down; on an error, waits and retries the rest (the chain is already fixed). */
  private async writeAll(chunks: Buffer[], total: number): Promise<void> {
    if (total === 0) return;
    let buf = Buffer.concat(chunks, total);
    for (;;) {
      try {
        if (!this.file) await this.openSegment();
        const { bytesWritten } = await this.file!.write(buf, 0, buf.length);
        this.segmentBytes += bytesWritten;
        if (bytesWritten === buf.length) {
          this.retryDelayMs = 50;
          return;
        }
        buf = buf.subarray(bytesWritten);
      } catch (err) {
        this.onError(new Error(`querytrail journal write failed in ${this.dir}, retrying: ${String(err)}`, { cause: err }));
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
      }
    }
  }

  private async openSegment(): Promise<void> {
    // The index advances only once the file exists: a failed open must not leave a hole in the numbering.
    this.file = await open(join(this.dir, segmentFileName(this.chainId, this.segmentIndex + 1)), 'a');
    this.segmentIndex += 1;
    this.segmentBytes = 0;
  }

  /** Seals the current segment; the next write opens the following one (with writeAll's retries). */
  private async rotate(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    this.segmentBytes = 0;
    if (f) {
      try {
        await f.sync();
        await f.close();
      } catch (err) {
        this.onError(new Error(`querytrail journal could not seal a segment in ${this.dir}: ${String(err)}`, { cause: err }));
      }
    }
  }

  /** The chain this one follows, if the directory holds one: the new genesis links to its last record. */
  private findPrevious(): { info: GenesisInfo } {
    const segments = listSegments(this.dir);
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      const tail = readLastLine(join(this.dir, seg.file));
      if (!tail) continue;
      try {
        const rec = JSON.parse(tail.line.toString('utf8')) as QuerytrailEvent;
        const integ = rec.integrity;
        if (!integ) continue;
        return {
          info: {
            reason: tail.torn ? 'crash_recovery' : 'restart',
            previous: { chain_id: integ.chain_id, seq: integ.seq, hash: hashLine(tail.line), segment: seg.file },
          },
        };
      } catch {
        // An unreadable last line: the verifier reports it; the new chain still starts.
      }
    }
    return { info: { reason: 'first_start' } };
  }

  private genesisEvent(previous: { info: GenesisInfo }): QuerytrailEvent {
    const t = formatMicros(nowMicros());
    return {
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type: 'chain.genesis',
      time: t,
      integrity: undefined,
      source: this.source,
      genesis: previous.info,
    };
  }

  private gapEvent(count: number, cause: string): QuerytrailEvent {
    const now = nowMicros();
    return {
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type: 'sink.gap',
      time: formatMicros(now),
      ...(this.droppedSince === undefined ? {} : { start_time: formatMicros(this.droppedSince), end_time: formatMicros(now) }),
      integrity: undefined,
      source: this.source,
      gap: { count, cause },
    };
  }
}
