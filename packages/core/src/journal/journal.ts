import { appendFileSync, closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, writeSync, writevSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { formatMicros, nowMicros } from '../event/clock.js';
import type { GenesisInfo, IntegrityInfo, QuerytrailEvent, SourceInfo } from '../event/types.js';
import { EVENT_SCHEMA } from '../event/types.js';
import { uuidv7 } from '../event/uuidv7.js';
import { JournalUnavailableError } from '../errors.js';
import { type Checkpoint, CHECKPOINT_SCHEMA, checkpointLineHash, signCheckpoint } from './checkpoint.js';
import { BatchBuffers, dropBytes } from './batch-buffers.js';
import { type DurableWaiter, DurableWaiters } from './durable-waiters.js';
import { hashLine, ZERO_HASH } from './hash.js';
import { isJournalRecord, type JournalRecord } from './record.js';
import { serializeEvent } from './serialize.js';
import { MerkleAccumulator } from './merkle.js';
import { checkpointFileName, listSegments, readLastLine, segmentFileName } from './segment-files.js';
import { loadSigningKey, type SigningKey, type SigningKeyInput } from './signing-key.js';
import { isMark, Spill, SPILL_DIR, type SpillMark } from './spill.js';
import { integrityMember, newSentinel } from './spill-frame.js';
import { type RecoveredSpill, recoverSpill } from './spill-recovery.js';

export interface JournalOptions {
  /** Directory of the segment files; created if missing. One auditor (process) per directory. */
  dir: string;
  /**
   * 'async' (default): the query path only enqueues; a writer appends batches off the hot path.
   * 'sync': a db.query.attempt record is fsync'd before each statement is sent (group commit).
   * 'auto': sync for destructive, privileged, dynamic, unanalysable and sensitive statements; async for
   * the rest (docs/delivery.md).
   */
  mode?: 'async' | 'sync' | 'auto';
  /** Start a new segment file once the current one reaches this size. Default 64 MiB. */
  segmentMaxBytes?: number;
  /**
   * Bound on events waiting in memory to be written. Beyond it, async events spill to disk (`spill`);
   * without a spill they are counted and a sink.gap record says so. Default 5,000: about 6.5 MiB for
   * statement records (1.3 KB of heap each, measured). With the spill, overflow is not loss, so the
   * queue only bridges the query path and the writer (docs/delivery.md has the memory bound).
   */
  maxQueuedEvents?: number;
  /**
   * Async events beyond `maxQueuedEvents` are written to files under `<dir>/.spill/` and chained from
   * there in order, up to `maxBytes` of spill on disk (default 1 GiB); beyond it they are counted in a
   * sink.gap record. `false`: no spill, the queue's overflow is counted and dropped. docs/delivery.md.
   */
  spill?: false | { maxBytes?: number };
  /** Ed25519 private key for signed checkpoints. Without one, chains end in an unanchored tail. */
  signingKey?: SigningKeyInput;
  /** Sign a checkpoint after this many records. Default 1000. */
  checkpointEvery?: number;
  /** …and at least this often (ms), writing a heartbeat record when idle. Default 60,000. */
  checkpointIntervalMs?: number;
  /**
   * Async events wait up to this long (ms) so that one write carries many (default 10; 0 = next turn
   * of the event loop). A write costs about 70 µs of CPU (the hand-off to libuv's thread pool), so the
   * wait is what keeps that cost per event small. Sync-mode attempt records never wait.
   */
  lingerMs?: number;
  /** Sync mode: a statement whose attempt record is not durable within this many ms is refused. Default 5000. */
  syncTimeoutMs?: number;
  /**
   * Sync mode, group commit: while other statements are waiting on the journal too (the last
   * fdatasync carried more than one attempt), an attempt record waits up to this long (ms) for others
   * to join its fdatasync. Default 1; 0 = write and fdatasync at once. A lone statement never waits.
   */
  groupCommitMs?: number;
  /** Called when a write fails (it is retried) or events had to be dropped. Default: a process warning. */
  onError?: (error: Error) => void;
}

interface Pending {
  event: QuerytrailEvent | JournalRecord;
  durable?: DurableWaiter;
}

/** Default disk budget of the spill. */
const SPILL_MAX_BYTES = 1024 * 1024 * 1024;
/**
 * While a spill write is in progress, the spill inbox takes at most max(maxQueuedEvents, this) more
 * events: about what one spill write (4 MiB) carries, so a tiny queue bound does not turn the time of
 * one write into losses.
 */
const SPILL_MIN_PENDING = 4096;
/** Spilled bytes the writer reads into one batch (the rest goes in the next, right after). */
const SPILL_BYTES_PER_BATCH = 4 * 1024 * 1024;
/** …into a batch that sync-mode records wait for: they wait for little, and the spill still moves. */
const SPILL_BYTES_BESIDE_WAITERS = 256 * 1024;


/**
 * The local append-only journal: JSON lines in segment files, each record chained to the previous
 * one (chain_id, seq, prev_hash = SHA-256 of the previous line's bytes), with signed checkpoints
 * over a Merkle tree of the records. See docs/integrity.md.
 */
/** fdatasyncs for waiting statements that may run at once (syncFor). */
const MAX_SYNCS_IN_FLIGHT = 2;
/** Room kept for the next line when deciding to seal a segment: a typical record fits. */
const TYPICAL_LINE_BYTES = 2048;
/** Attempt records waiting in the queue beyond which group commit stops waiting for more. */
const GROUP_COMMIT_MAX = 256;

export class Journal {
  readonly dir: string;
  readonly chainId: string;
  readonly keyId: string | undefined;
  private readonly segmentMaxBytes: number;
  private readonly maxQueued: number;
  private readonly checkpointEvery: number;
  private readonly syncTimeoutMs: number;
  private readonly lingerMs: number;
  private readonly groupCommitMs: number;
  /** Statements waiting for their attempt record to be durable (sync mode). */
  private readonly waiters: DurableWaiters;
  /** Attempt records the last fdatasync for waiting statements carried (groupCommitMs). */
  private lastGroupSize = 0;
  private groupCommitTimer: NodeJS.Timeout | undefined;
  private readonly signer: SigningKey | undefined;
  private readonly onError: (error: Error) => void;
  private queue: Pending[] = [];
  private seq = 0;
  private prevHash = ZERO_HASH;
  private readonly merkle = new MerkleAccumulator();
  private segmentIndex = 0;
  private segmentBytes = 0;
  private file: FileHandle | undefined;
  private checkpointFile: FileHandle | undefined;
  private checkpointIndex = 0;
  private checkpointCount = 0;
  private prevCheckpoint = ZERO_HASH;
  private scheduled = false;
  private batchQueued = false;
  private tail: Promise<void> = Promise.resolve();
  private dropped = 0;
  /** Events accepted (queued or counted as dropped) and events taken by the writer: flush() waits on these. */
  private enqueued = 0;
  private taken = 0;
  private droppedSince: number | undefined;
  private closed = false;
  private retryDelayMs = 50;
  private timer: NodeJS.Timeout | undefined;
  /** Overflow of the queue (undefined with spill: false and nothing left by an earlier process). */
  private readonly spill: Spill | undefined;

  constructor(
    options: JournalOptions,
    private readonly source: SourceInfo,
  ) {
    this.dir = options.dir;
    this.segmentMaxBytes = options.segmentMaxBytes ?? 64 * 1024 * 1024;
    this.maxQueued = options.maxQueuedEvents ?? 5000;
    this.checkpointEvery = options.checkpointEvery ?? 1000;
    this.syncTimeoutMs = options.syncTimeoutMs ?? 5000;
    this.waiters = new DurableWaiters(
      this.syncTimeoutMs,
      () => new JournalUnavailableError(`querytrail journal could not store the attempt record within ${this.syncTimeoutMs} ms`),
    );
    this.lingerMs = options.lingerMs ?? 10;
    this.groupCommitMs = options.groupCommitMs ?? 1;
    this.onError = options.onError ?? ((e) => process.emitWarning(e.message, { code: 'QUERYTRAIL_JOURNAL' }));
    this.signer = options.signingKey === undefined ? undefined : loadSigningKey(options.signingKey, 'journal.signingKey');
    this.keyId = this.signer?.keyId;
    mkdirSync(this.dir, { recursive: true });
    const previous = this.recoverPrevious();
    this.chainId = uuidv7();
    // After the segments: a spill left by a crash is chained right after the genesis, which says so.
    let recovered: RecoveredSpill | undefined;
    try {
      recovered = recoverSpill(this.dir, this.onError);
    } catch (err) {
      // The files stay where they are: a later start chains them. Never a reason not to start.
      this.onError(new Error(`querytrail journal could not recover the spill in ${join(this.dir, SPILL_DIR)}: ${String(err)}`, { cause: err }));
    }
    const spillOption = options.spill;
    if (spillOption !== false || recovered !== undefined) {
      this.spill = new Spill(
        {
          dir: join(this.dir, SPILL_DIR),
          chainId: this.chainId,
          enabled: spillOption !== false,
          maxBytes: (spillOption === false ? undefined : spillOption?.maxBytes) ?? SPILL_MAX_BYTES,
          maxPending: Math.max(this.maxQueued, SPILL_MIN_PENDING),
          sentinel: newSentinel(),
          onProgress: () => this.drain(),
          onError: this.onError,
        },
        recovered?.files,
      );
    }
    this.queue.push({ event: this.genesisEvent(withSpilled(previous, recovered)) });
    this.enqueued += 1 + (recovered?.records ?? 0);
    this.schedule();
    if (this.signer) {
      this.timer = setInterval(() => this.onTimer(), options.checkpointIntervalMs ?? 60_000);
      this.timer.unref();
    }
  }

  /** Hot path: O(1), no I/O. The writer picks the event up on the next turn of the event loop. */
  append(event: QuerytrailEvent | JournalRecord): void {
    if (this.closed) {
      // Nothing can be chained after the final checkpoint: say so loudly rather than drop in silence.
      this.onError(new Error(`querytrail journal is closed: a ${event.type} event emitted after close() was not recorded`));
      return;
    }
    const spill = this.spill;
    if (spill !== undefined && (spill.active || (spill.enabled && this.queue.length >= this.maxQueued))) {
      // Over the bound, or behind what is spilled already (order is kept): the spiller takes it.
      this.enqueued++;
      spill.accept(event);
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.countDropped(1);
    } else {
      this.queue.push({ event });
      this.enqueued++;
    }
    // Async events may wait a moment so that one write carries many; a full batch goes at once.
    if (this.queue.length >= 512) this.schedule();
    else this.scheduleLingering();
  }

  /**
   * Sync mode: resolves once the event is on disk (written and fdatasync'd). Concurrent callers share
   * one fsync (group commit). Rejects with JournalUnavailableError if that cannot happen in time.
   */
  appendDurable(event: QuerytrailEvent | JournalRecord): Promise<void> {
    if (this.closed) return Promise.reject(new JournalUnavailableError('querytrail journal is closed'));
    // With a spill, async events never hold more than the bound in memory (the rest spills), so a
    // statement waiting for its attempt record is not refused because async traffic filled the queue:
    // attempt records have a bound of their own beside it (each one is a statement waiting to be sent).
    const bound = this.spill?.enabled ? 2 * this.maxQueued : this.maxQueued;
    if (this.queue.length >= bound) {
      this.countDropped(1);
      this.schedule();
      return Promise.reject(new JournalUnavailableError('querytrail journal queue is full'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, durable: this.waiters.add(resolve, reject) });
      this.enqueued++;
      this.scheduleDurable();
    });
  }

  /**
   * Group commit. Each fdatasync costs about 100 µs of CPU here (more through libuv's thread pool
   * than the write itself), so under concurrency the attempts that arrive within a millisecond share
   * one. Under no concurrency (the last group was a single statement) nothing waits: the delay would
   * only add latency. Like PostgreSQL's commit_delay with commit_siblings.
   */
  private scheduleDurable(): void {
    if (this.groupCommitMs === 0 || this.lastGroupSize < 2 || this.queue.length >= GROUP_COMMIT_MAX) {
      this.schedule();
      return;
    }
    if (this.scheduled || this.groupCommitTimer !== undefined) return;
    this.groupCommitTimer = setTimeout(() => {
      this.groupCommitTimer = undefined;
      this.schedule();
    }, this.groupCommitMs);
  }

  /** Resolves when every event appended before the call is written (not necessarily fsync'd), spilled or not. */
  async flush(): Promise<void> {
    // Waits for what was appended before the call, not for an empty queue: under steady traffic the
    // queue is never empty, and close() must not wait for the traffic to stop.
    const target = this.enqueued;
    while (this.taken < target) {
      const before = this.taken;
      this.drain();
      await this.tail;
      if (this.taken >= target) break;
      // Spilled events reach the writer once the spiller has written them.
      if (!this.writerHasWork() && this.spill !== undefined) await this.spill.settled();
      // Never spin on microtasks: let the event loop (and the spiller) run.
      if (this.taken === before) await new Promise<void>((r) => setImmediate(r));
    }
    await this.tail;
  }

  /** Writes a signed checkpoint now (if signing and anything is new). */
  async checkpoint(reason = 'manual'): Promise<void> {
    await this.flush();
    await this.run(() => this.writeCheckpoint(reason));
  }

  /** Flushes, writes the final checkpoint, fsyncs and closes. Later events are counted as lost. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    await this.run(async () => {
      // From this step on nothing more is chained: events that arrived after the flush above (a pool's
      // disconnects, say) are written here, before the final checkpoint, never after it.
      this.closed = true;
      if (this.lingering) {
        clearTimeout(this.lingering);
        this.lingering = undefined;
      }
      if (this.groupCommitTimer) {
        clearTimeout(this.groupCommitTimer);
        this.groupCommitTimer = undefined;
      }
      // The spill is drained completely: the final checkpoint covers every record appended before.
      for (;;) {
        if (this.writerHasWork()) await this.writeBatch();
        else if (this.spill !== undefined && !this.spill.idle) await this.spill.settled();
        else break;
      }
      await this.writeCheckpoint('close');
    });
    await this.run(async () => {
      await Promise.all(this.syncing);
      for (const f of [this.file, this.checkpointFile]) {
        if (f) {
          await f.sync();
          await f.close();
        }
      }
      this.file = undefined;
      this.checkpointFile = undefined;
      // Everything chained is fsync'd now.
      await this.spill?.removeDone();
      await this.spill?.close();
    });
  }

  get lastSeq(): number {
    return this.seq;
  }

  get lastHash(): string {
    return this.prevHash;
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.drain();
      });
    }
  }

  private lingering: NodeJS.Timeout | undefined;

  private scheduleLingering(): void {
    if (this.lingerMs === 0) {
      this.schedule();
      return;
    }
    if (this.scheduled || this.lingering) return;
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      this.schedule();
    }, this.lingerMs);
  }

  /** Serialises every write: batches, checkpoints and closing never interleave. */
  private run(task: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(task).catch((err: unknown) => {
      this.onError(new Error(`querytrail journal: ${String(err)}`, { cause: err }));
    });
    return this.tail;
  }

  private countDropped(n: number): void {
    if (this.dropped === 0) this.droppedSince = nowMicros();
    this.dropped += n;
    this.enqueued += n;
  }

  private drain(): void {
    if (this.batchQueued || !this.writerHasWork()) return;
    this.batchQueued = true;
    void this.run(async () => {
      this.batchQueued = false;
      await this.writeBatch();
      // What arrived during the write waits its linger like anything else (a write costs far more
      // than one event); attempt records scheduled their own batch when they were appended. Spilled
      // records are waiting already: they go on at once.
      if (this.dropped > 0 || this.queue.length >= 512 || this.spill?.readable) this.drain();
      else if (this.queue.length > 0) this.scheduleLingering();
    });
  }

  /** Something for writeBatch() to do now. */
  private writerHasWork(): boolean {
    return this.queue.length > 0 || this.dropped > 0 || (this.spill !== undefined && (this.spill.readable || this.spill.hasDone));
  }

  private onTimer(): void {
    if (this.closed) return;
    if (this.seq === this.checkpointCount && this.queue.length === 0 && !this.spill?.active) {
      // Idle: a heartbeat gives the checkpoint something new to cover, proving the writer was alive.
      this.append(this.lifecycleEvent('heartbeat'));
    }
    void this.flush().then(() => this.run(() => this.writeCheckpoint('interval')));
  }

  private async writeBatch(): Promise<void> {
    if (!this.writerHasWork()) return; // a drain scheduled before close() took the queue
    const batch = this.queue;
    this.queue = [];
    this.taken += batch.length + this.dropped;
    if (this.dropped > 0) {
      // Loss is itself evidence. Drops happen only while the queue is full, so after everything queued.
      batch.push({ event: this.gapEvent(this.dropped, 'journal queue full', this.droppedSince) });
      this.onError(new Error(`querytrail journal dropped ${this.dropped} events: queue full`));
      this.dropped = 0;
    }
    const direct = batch.some((p) => p.durable !== undefined);
    // Lines are encoded into the writer's buffers (each line once, hashed from there) and the whole
    // batch goes down in one writev: one write per batch, however many buffers it fills, so the
    // writer keeps up with a producer that hands it thousands of records per turn of the event loop.
    const out = new BatchBuffers(this.buffers);
    const waiters: DurableWaiter[] = [];
    for (const { event, durable } of batch) {
      const room = this.startLine(out, direct, TYPICAL_LINE_BYTES);
      if (room !== undefined) await room;
      this.seq += 1;
      this.chain(this.encodeLine(out, event, { chain_id: this.chainId, seq: this.seq, prev_hash: this.prevHash }));
      if (durable) waiters.push(durable);
    }
    // The queue holds what was appended before spilling started, and sync-mode records (never held
    // behind the spill); then the spilled records, in order.
    if (this.spill !== undefined) await this.writeSpilled(this.spill, out, direct, waiters.length > 0 ? SPILL_BYTES_BESIDE_WAITERS : SPILL_BYTES_PER_BATCH);
    await this.writeAll(out.take(), direct);
    if (waiters.length > 0) await this.syncFor(waiters);
    if (this.spill?.hasDone) {
      // A spill file goes only once the segment holding its records is durable.
      try {
        await this.file?.datasync();
        await this.spill.removeDone();
      } catch (err) {
        this.onError(new Error(`querytrail journal fsync failed in ${this.dir}; chained spill files are kept for now: ${String(err)}`, { cause: err }));
      }
    }
    if (this.signer && this.seq - this.checkpointCount >= this.checkpointEvery) await this.writeCheckpoint('records');
  }

  /**
   * Makes this batch durable for the statements waiting on it, without holding the writer: the
   * fdatasync runs while the next batch is encoded and written (fdatasync covers every write made
   * before it, so each batch's own call is enough for its waiters). Average wait per attempt: one
   * fdatasync instead of one and a half. At most MAX_SYNCS_IN_FLIGHT at once, so that fdatasyncs do
   * not fill libuv's thread pool; beyond that the writer waits for the oldest, and the attempts
   * arriving meanwhile share the next one (group commit).
   */
  private async syncFor(waiters: DurableWaiter[]): Promise<void> {
    this.lastGroupSize = waiters.length;
    while (this.syncing.size >= MAX_SYNCS_IN_FLIGHT) await Promise.race(this.syncing);
    const file = this.file!;
    const sync: Promise<void> = file.datasync().then(
      () => {
        this.waiters.resolve(waiters);
      },
      (err: unknown) => {
        const e = new JournalUnavailableError(`querytrail journal fsync failed in ${this.dir}`, { cause: err });
        this.waiters.reject(waiters, e);
      },
    );
    const tracked = sync.finally(() => this.syncing.delete(tracked));
    this.syncing.add(tracked);
  }

  /** fdatasyncs under way for waiting statements (syncFor). */
  private readonly syncing = new Set<Promise<void>>();

  /**
   * Chains spilled records into this batch: each frame is written as prefix + its integrity + suffix
   * (byte for byte the line the record would have had without the spill), hashed and chained like any
   * other line; a mark becomes a sink.gap record at its place.
   */
  private async writeSpilled(spill: Spill, out: BatchBuffers, direct: boolean, maxBytes: number): Promise<void> {
    let budget = maxBytes;
    while (budget > 0 && spill.readable) {
      const { items, bytes } = await spill.read(budget);
      budget -= bytes;
      for (const item of items) {
        if (isMark(item)) {
          await this.chainSpillGap(out, direct, item);
          continue;
        }
        const room = this.startLine(out, direct, Math.max(TYPICAL_LINE_BYTES, item.prefix.length + item.suffix.length + 160));
        if (room !== undefined) await room;
        this.seq += 1;
        out.bytes(item.prefix);
        out.latin1(integrityMember({ chain_id: this.chainId, seq: this.seq, prev_hash: this.prevHash }));
        out.bytes(item.suffix);
        this.chain(out.endLine());
        this.taken += 1;
      }
    }
  }

  /** A loss in the spilled stream, recorded where it happened. */
  private async chainSpillGap(out: BatchBuffers, direct: boolean, mark: SpillMark): Promise<void> {
    const event = this.gapEvent(mark.count, mark.cause, mark.since);
    const room = this.startLine(out, direct, TYPICAL_LINE_BYTES);
    if (room !== undefined) await room;
    this.seq += 1;
    this.chain(this.encodeLine(out, event, { chain_id: this.chainId, seq: this.seq, prev_hash: this.prevHash }));
    this.taken += mark.accounted;
    if (mark.accounted > 0) this.onError(new Error(`querytrail journal dropped ${mark.count} events: ${mark.cause}`));
    else this.onError(new Error(`querytrail journal: ${mark.cause}`));
  }

  /**
   * Starts the next line in `out`. Before it, the segment is sealed if a line of about `bytes` would
   * overflow it (with the checkpoint of what it holds, so before the line's seq is taken), and the
   * buffers are written out when every one of them is full. Synchronous (undefined) unless one of those
   * is needed: no await per record on the writer's common path.
   */
  private startLine(out: BatchBuffers, direct: boolean, bytes: number): Promise<void> | undefined {
    if (!this.overflows(out, bytes) && out.startLine()) return undefined;
    return this.makeRoom(out, direct, bytes);
  }

  private async makeRoom(out: BatchBuffers, direct: boolean, bytes: number): Promise<void> {
    if (this.overflows(out, bytes)) {
      await this.writeAll(out.take(), direct);
      await this.writeCheckpoint('rotation');
      await this.rotate();
    }
    if (!out.startLine()) {
      await this.writeAll(out.take(), direct);
      out.startLine();
    }
  }

  private overflows(out: BatchBuffers, bytes: number): boolean {
    const used = this.segmentBytes + out.pendingBytes;
    return used > 0 && used + bytes > this.segmentMaxBytes;
  }

  /** The line just written is the chain's newest record (the Merkle tree exists for checkpoints only). */
  private chain(digest: string): void {
    this.prevHash = digest;
    if (this.signer) this.merkle.append(Buffer.from(digest, 'hex'));
  }

  /** The writer's reusable line buffers (see BatchBuffers); at most WRITE_BUFFERS_MAX are kept. */
  private readonly buffers: Buffer[] = [];

  /**
   * Writes the record's line into `out` and returns its hash. Records that can write themselves piece
   * by piece do (the statement fast path); a value that cannot be serialised falls back to the
   * guarded serialiser, which says in the record what it replaced.
   */
  private encodeLine(out: BatchBuffers, event: QuerytrailEvent | JournalRecord, integrity: IntegrityInfo): string {
    if (!isJournalRecord(event)) {
      event.integrity = integrity;
      return out.appendLine(serializeEvent(event));
    }
    if (event.writeLine !== undefined) {
      try {
        event.writeLine(out, integrity);
        return out.endLine();
      } catch {
        out.abortLine();
      }
    }
    let line: string;
    try {
      line = event.line(integrity);
    } catch {
      const e = event.toEvent();
      e.integrity = integrity;
      line = serializeEvent(e);
    }
    return out.appendLine(line);
  }

  /** Writes until every byte is down; on an error, waits and retries the rest (the chain is already fixed). */
  private async writeAll(chunks: Buffer[], direct = false): Promise<void> {
    let pending = chunks.filter((c) => c.length > 0);
    let total = 0;
    for (const c of pending) total += c.length;
    while (total > 0) {
      try {
        if (!this.file) await this.openSegment();
        const fd = this.file!.fd;
        // A batch that attempt records wait for is written from this thread: its statements wait for
        // the fdatasync anyway, and a write through the thread pool costs several times the CPU of the
        // write itself (about 70 µs against 15 for 20 KB here). Async-only batches keep the pool, so
        // async mode never blocks the event loop on the disk.
        const bytesWritten =
          direct && typeof fd === 'number'
            ? pending.length === 1
              ? writeSync(fd, pending[0]!)
              : writevSync(fd, pending)
            : pending.length === 1
              ? (await this.file!.write(pending[0]!)).bytesWritten
              : (await this.file!.writev(pending)).bytesWritten;
        this.segmentBytes += bytesWritten;
        total -= bytesWritten;
        if (total > 0) pending = dropBytes(pending, bytesWritten);
        this.retryDelayMs = 50;
      } catch (err) {
        this.onError(new Error(`querytrail journal write failed in ${this.dir}, retrying: ${String(err)}`, { cause: err }));
        await new Promise((r) => setTimeout(r, this.retryDelayMs));
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
      }
    }
  }

  private async writeCheckpoint(reason: string): Promise<void> {
    if (!this.signer || this.seq === this.checkpointCount) return;
    // What a checkpoint vouches for must survive a crash: records first, then the signature.
    await this.file?.datasync();
    this.checkpointIndex += 1;
    const cp: Checkpoint = signCheckpoint(
      {
        schema: CHECKPOINT_SCHEMA,
        chain_id: this.chainId,
        index: this.checkpointIndex,
        time: formatMicros(nowMicros()),
        count: this.seq,
        last_hash: this.prevHash,
        merkle_root: this.merkle.root().toString('hex'),
        prev_checkpoint: this.prevCheckpoint,
        key_id: this.signer.keyId,
        reason,
      },
      this.signer.privateKey,
    );
    const line = JSON.stringify(cp);
    if (!this.checkpointFile) {
      this.checkpointFile = await open(join(this.dir, checkpointFileName(this.chainId)), 'a');
      await this.syncDirectory();
    }
    await this.checkpointFile.write(`${line}\n`);
    await this.checkpointFile.datasync();
    this.prevCheckpoint = checkpointLineHash(line);
    this.checkpointCount = this.seq;
  }

  private async openSegment(): Promise<void> {
    // The index advances only once the file exists: a failed open must not leave a hole in the numbering.
    this.file = await open(join(this.dir, segmentFileName(this.chainId, this.segmentIndex + 1)), 'a');
    this.segmentIndex += 1;
    this.segmentBytes = 0;
    await this.syncDirectory();
  }

  /** A new file's directory entry must be durable too, or a power loss can lose a file whose data was fsync'd. */
  private async syncDirectory(): Promise<void> {
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** Seals the current segment; the next write opens the following one (with writeAll's retries). */
  private async rotate(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    this.segmentBytes = 0;
    if (f) {
      try {
        await Promise.all(this.syncing); // their waiters resolve with their own fdatasync, not with the close
        await f.sync();
        await f.close();
      } catch (err) {
        this.onError(new Error(`querytrail journal could not seal a segment in ${this.dir}: ${String(err)}`, { cause: err }));
      }
    }
  }

  /**
   * The chain this one follows, if the directory holds one: the new genesis links to its last complete
   * record. A torn last line (a write interrupted by a crash) was never a complete record, so no hash
   * or checkpoint can cover it: it is moved aside to <segment>.torn and cut from the segment.
   */
  private recoverPrevious(): GenesisInfo {
    const segments = listSegments(this.dir);
    let crashed = false;
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      const path = join(this.dir, seg.file);
      // Only the newest segment can have been cut short by a crash: older ones were sealed (fsync'd)
      // before the next was opened, so damage there is for the verifier to report, not for us to cut.
      const newest = i === segments.length - 1;
      const tail = readLastLine(path);
      if (newest && tail?.torn) {
        crashed = true;
        appendFileSync(`${path}.torn`, tail.tornBytes);
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, tail.completeBytes);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
      if (!tail || tail.line.length === 0) {
        if (newest) {
          // A crash between creating the segment and its first complete record: nothing in it was ever
          // a record. Set the empty file aside and link to the last complete record before it.
          renameSync(path, `${path}.empty`);
          crashed = crashed || tail !== undefined;
          continue;
        }
        continue;
      }
      try {
        const rec = JSON.parse(tail.line.toString('utf8')) as QuerytrailEvent;
        const integ = rec.integrity;
        if (!integ) continue;
        return {
          reason: crashed ? 'crash_recovery' : 'restart',
          previous: { chain_id: integ.chain_id, seq: integ.seq, hash: hashLine(tail.line), segment: seg.file },
        };
      } catch {
        // An unreadable last line: the verifier reports it; the new chain still starts.
        return { reason: crashed ? 'crash_recovery' : 'restart' };
      }
    }
    return { reason: crashed ? 'crash_recovery' : 'first_start' };
  }

  private genesisEvent(info: GenesisInfo): QuerytrailEvent {
    const e = this.lifecycleEvent('chain.genesis');
    e.genesis = this.keyId ? { ...info, checkpoints: { key_id: this.keyId } } : info;
    return e;
  }

  private lifecycleEvent(type: 'chain.genesis' | 'heartbeat'): QuerytrailEvent {
    return { schema: EVENT_SCHEMA, event_id: uuidv7(), type, time: formatMicros(nowMicros()), integrity: undefined, source: this.source };
  }

  private gapEvent(count: number, cause: string, since: number | undefined): QuerytrailEvent {
    const now = nowMicros();
    return {
      schema: EVENT_SCHEMA,
      event_id: uuidv7(),
      type: 'sink.gap',
      time: formatMicros(now),
      ...(since === undefined ? {} : { start_time: formatMicros(since), end_time: formatMicros(now) }),
      integrity: undefined,
      source: this.source,
      gap: { count, cause },
    };
  }
}

/** The genesis of a chain that starts with records spilled by an earlier process. */
function withSpilled(info: GenesisInfo, recovered: RecoveredSpill | undefined): GenesisInfo {
  if (recovered === undefined || (recovered.records === 0 && recovered.torn === 0)) return info;
  return { ...info, spilled: { records: recovered.records, files: recovered.names, ...(recovered.torn > 0 ? { torn: recovered.torn } : {}) } };
}
