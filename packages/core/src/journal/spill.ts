import { type FileHandle, mkdir, open, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { nowMicros } from '../event/clock.js';
import { BatchBuffers, dropBytes, WRITE_BUFFER_BYTES } from './batch-buffers.js';
import { isJournalRecord, type JournalRecord } from './record.js';
import { serializeEvent } from './serialize.js';
import { FRAME_HEADER_BYTES, frameInPlace, headFirst, readFrameHeader, type Sentinel } from './spill-frame.js';
import type { IntegrityInfo, QuerytrailEvent } from '../event/types.js';

/**
 * The spill: where async events go while the in-memory queue is at its bound (docs/delivery.md).
 *
 * The query path only pushes onto `inbox` (O(1), no I/O). The spiller, a task of its own scheduled
 * with setImmediate (never behind the writer's fdatasyncs), encodes each event's line without its
 * chain position (spill-frame.ts) into a few reused buffers and appends them to a file under
 * `<dir>/.spill/` through its own file handle. The writer reads the files back in order and chains
 * every frame like any other record. Once anything is spilled, every newer async event takes this
 * path until the writer has chained all of it, so order is kept.
 *
 * Loss is never silent: an event beyond the disk budget, beyond the inbox bound while a spill write
 * is slow, or in a write that failed becomes part of a mark at its place in the stream, and the
 * writer turns the mark into a sink.gap record there.
 */

export const SPILL_DIR = '.spill';
/**
 * The spiller's encode buffers (1 MiB each): what one spill write carries at most. There are two such
 * sets: one is being written while the next is encoded.
 */
const SPILL_BUFFERS = 4;
/** The writer's read buffer; a larger frame is read on its own. */
const READ_BYTES = WRITE_BUFFER_BYTES;
/**
 * A new spill file is started beyond an eighth of the budget (64 KiB to 16 MiB), so that chained files
 * can be deleted, and their bytes given back to the budget, while spilling goes on.
 */
function fileMaxBytes(budget: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(budget / 8)));
}
const HEADER_PLACEHOLDER = Buffer.alloc(FRAME_HEADER_BYTES);
/** Pause after a failed read of a spill file. */
const READ_RETRY_MS = 100;

/** Spill files are named <chain_id>-<6+ digits>.spill; `+<offset>` when the records before offset were chained already. */
const SPILL_NAME_RE = /^([0-9a-f-]{36})-(\d{6,})(?:\+(\d+))?\.spill$/;

export interface SpillName {
  name: string;
  chainId: string;
  index: number;
  /** Where the records not chained yet start. */
  offset: number;
}

export function parseSpillName(name: string): SpillName | undefined {
  const m = SPILL_NAME_RE.exec(name);
  return m ? { name, chainId: m[1]!, index: Number(m[2]), offset: m[3] === undefined ? 0 : Number(m[3]) } : undefined;
}

export function spillFileName(chainId: string, index: number, offset = 0): string {
  return `${chainId}-${String(index).padStart(6, '0')}${offset > 0 ? `+${offset}` : ''}.spill`;
}

/** Events lost at one place in the spilled stream; the writer writes a sink.gap record there. */
export interface SpillMark {
  /** Byte offset in its file: the lost events came after the frames before it. */
  offset: number;
  count: number;
  /** How many of them were appended in this process (flush() counts them as handled once the gap is written). */
  accounted: number;
  since: number | undefined;
  cause: string;
}

export class SpillFile {
  /** Bytes of whole frames on disk. */
  written = 0;
  /** The writer's position. */
  readOffset = 0;
  /** The spiller writes no more to it: once read to the end it can go. */
  sealed = false;
  recordsWritten = 0;
  recordsRead = 0;
  readonly marks: SpillMark[] = [];
  handle: FileHandle | undefined;
  reader: FileHandle | undefined;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {}

  /** Read to the end, marks included. */
  get consumed(): boolean {
    return this.readOffset === this.written && this.marks.length === 0;
  }
}

/** A run of events the inbox could not take (the spiller was busy and the inbox at its bound). */
class DropRun {
  count = 1;
  constructor(readonly since: number) {}
}

export type Spillable = QuerytrailEvent | JournalRecord;
/** What the writer chains next: a frame (views into the read buffer, valid until the next read) or a mark. */
export type SpillItem = { readonly prefix: Buffer; readonly suffix: Buffer } | SpillMark;

export function isMark(item: SpillItem): item is SpillMark {
  return (item as SpillMark).cause !== undefined;
}

export interface SpillConfig {
  /** <journal dir>/.spill */
  dir: string;
  /** Names this process's spill files. */
  chainId: string;
  /** False: no new spilling (journal.spill: false); files recovered from an earlier process are still chained. */
  enabled: boolean;
  maxBytes: number;
  /** Inbox bound while the spiller is busy (the journal's maxQueuedEvents). */
  maxPending: number;
  sentinel: Sentinel;
  /** Frames were written, or the spiller went idle: the writer may have work. */
  onProgress: () => void;
  onError: (error: Error) => void;
}

interface PendingMark {
  /** Offset within the write being prepared. */
  at: number;
  count: number;
  since: number | undefined;
  cause: string;
}

export class Spill {
  readonly enabled: boolean;
  /** Newer async events must take the spill path (something is spilled and not chained yet). */
  active = false;
  private inbox: (Spillable | DropRun)[] = [];
  private running = false;
  private scheduled = false;
  /** Files in stream order; the writer reads files[0], the spiller appends to `current` (the last one). */
  private readonly files: SpillFile[] = [];
  private current: SpillFile | undefined;
  /** Read to the end: deleted once the journal segment holding their records is fdatasync'd. */
  private done: SpillFile[] = [];
  /** Bytes of spill files on disk (the budget). */
  private diskBytes = 0;
  private fileIndex = 0;
  private dirReady = false;
  private readonly encodePools: [Buffer[], Buffer[]] = [[], []];
  /** Bytes encoded and handed to a write that has not completed (they count against the budget too). */
  private unwritten = 0;
  private readonly fileMax: number;
  private readBuffer: Buffer | undefined;
  private waiters: (() => void)[] = [];
  /** After a failed read, the writer waits until then before reading again. */
  private readPausedUntil = 0;
  private readonly kick = (): void => {
    this.scheduled = false;
    void this.spillLoop();
  };

  constructor(
    private readonly config: SpillConfig,
    recovered: SpillFile[] = [],
  ) {
    this.enabled = config.enabled;
    this.fileMax = fileMaxBytes(config.maxBytes);
    for (const f of recovered) {
      this.files.push(f);
      this.diskBytes += f.written;
    }
    // Recovered records come first in the new chain: everything newer queues up behind them.
    this.active = recovered.length > 0;
  }

  // ---- the query path ------------------------------------------------------------------------------

  /** Hot path: O(1), no I/O. */
  accept(event: Spillable): void {
    this.active = true;
    const inbox = this.inbox;
    if (this.running && inbox.length >= this.config.maxPending) {
      // The spiller is behind (a slow spill write): count rather than hold more in memory.
      const last = inbox[inbox.length - 1];
      if (last instanceof DropRun) last.count += 1;
      else inbox.push(new DropRun(nowMicros()));
      return;
    }
    inbox.push(event);
    if (!this.running && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.kick);
    }
  }

  // ---- the spiller ---------------------------------------------------------------------------------

  /** No spilling under way or waiting. */
  get idle(): boolean {
    return !this.running && !this.scheduled && this.inbox.length === 0;
  }

  /** Resolves once the spiller has written something or gone idle. */
  settled(): Promise<void> {
    if (this.idle && Date.now() >= this.readPausedUntil) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private progress(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    this.config.onProgress();
  }

  private async spillLoop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      // Writes go one after the other, in order; the next buffers are encoded while one is written.
      let writing: Promise<void> | undefined;
      let pool = 0;
      while (this.inbox.length > 0) {
        const batch: (Spillable | DropRun | undefined)[] = this.inbox;
        this.inbox = [];
        let next = 0;
        while (next < batch.length) {
          const encoded = this.encodeSome(batch, next, this.encodePools[pool]!);
          next = encoded.next;
          if (writing !== undefined) await writing;
          writing = this.writeFrames(encoded.parts, encoded.records, encoded.marks);
          pool ^= 1;
        }
        if (this.inbox.length === 0 && writing !== undefined) {
          // Let what arrived meanwhile join the next write rather than spin on a few events.
          await writing;
          writing = undefined;
        }
      }
      if (writing !== undefined) await writing;
    } catch (err) {
      // Not expected (write errors are handled where they happen); never leave the spill stuck.
      this.config.onError(new Error(`querytrail journal spill: ${String(err)}`, { cause: err }));
    } finally {
      this.running = false;
    }
    this.progress();
  }

  /** Encodes events from `batch[from]` on until the buffers are full; says where it stopped. */
  private encodeSome(batch: (Spillable | DropRun | undefined)[], from: number, pool: Buffer[]): { parts: Buffer[]; records: number; marks: PendingMark[]; next: number } {
    const out = new BatchBuffers(pool, SPILL_BUFFERS);
    const marks: PendingMark[] = [];
    let records = 0;
    let i = from;
    for (; i < batch.length; i++) {
      const item = batch[i]!;
      if (item instanceof DropRun) {
        batch[i] = undefined;
        addPendingMark(marks, out.pendingBytes, item.count, item.since, 'journal queue full and the spill inbox full (spill writes too slow)');
        continue;
      }
      if (!out.startLine()) break; // the buffers are full: write them first
      batch[i] = undefined; // the record is encoded now: let it go
      let length: number;
      try {
        length = this.encodeFrame(out, item);
      } catch {
        length = 0; // not expected (the serialiser does not throw); counted, never silent
      }
      if (length === 0) {
        out.abortLine();
        addPendingMark(marks, out.pendingBytes, 1, nowMicros(), 'event could not be spilled');
      } else if (this.diskBytes + this.unwritten + out.pendingBytes + length > this.config.maxBytes) {
        out.abortLine();
        addPendingMark(marks, out.pendingBytes, 1, nowMicros(), 'spill budget exhausted');
      } else {
        out.endRaw();
        records += 1;
      }
    }
    const parts = out.take();
    for (const p of parts) this.unwritten += p.length;
    return { parts, records, marks, next: i };
  }

  /** Writes one frame into `out` (a line was started); its length, or 0 if the event cannot be framed. */
  private encodeFrame(out: BatchBuffers, event: Spillable): number {
    const sentinel = this.config.sentinel;
    out.bytes(HEADER_PLACEHOLDER);
    writeWithSentinel(out, event, sentinel.integrity);
    let length = frameInPlace(out.lineView(), sentinel);
    if (length === 0) {
      // Not the shape every event of ours has: spill the event rebuilt with its head first.
      out.truncateLine(FRAME_HEADER_BYTES);
      const e = isJournalRecord(event) ? event.toEvent() : event;
      out.utf8(serializeEvent(headFirst(e, sentinel.integrity)));
      length = frameInPlace(out.lineView(), sentinel);
    }
    if (length > 0) out.truncateLine(length);
    return length;
  }

  private async writeFrames(parts: Buffer[], records: number, marks: PendingMark[]): Promise<void> {
    let total = 0;
    for (const p of parts) total += p.length;
    try {
      await this.writeFramesToFile(parts, total, records, marks);
    } finally {
      this.unwritten -= total;
    }
  }

  private async writeFramesToFile(parts: Buffer[], total: number, records: number, marks: PendingMark[]): Promise<void> {
    if (total === 0 && marks.length === 0) return;
    let file = this.current;
    if (file !== undefined && file.written > 0 && file.written + total > this.fileMax) {
      await this.seal(file);
      file = undefined;
    }
    file ??= this.newFile();
    const start = file.written;
    if (total > 0) {
      try {
        await this.writeAt(file, parts, start);
      } catch (err) {
        // Nothing of this write counts: a later write goes to the same place. Say where the events were.
        await file.handle?.truncate(start).catch(() => {});
        let lost = records;
        let since: number | undefined = nowMicros();
        for (const m of marks) {
          lost += m.count;
          if (m.since !== undefined && m.since < since) since = m.since;
        }
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        pushMark(file, { offset: start, count: lost, accounted: lost, since, cause: `spill write failed (${code})` });
        this.config.onError(new Error(`querytrail journal could not spill ${lost} events to ${this.config.dir}: ${String(err)}`, { cause: err }));
        this.progress();
        return;
      }
      file.written += total;
      file.recordsWritten += records;
      this.diskBytes += total;
    }
    for (const m of marks) pushMark(file, { offset: start + m.at, count: m.count, accounted: m.count, since: m.since, cause: m.cause });
    this.progress();
  }

  private async writeAt(file: SpillFile, parts: Buffer[], position: number): Promise<void> {
    if (!this.dirReady) {
      await mkdir(this.config.dir, { recursive: true });
      this.dirReady = true;
    }
    file.handle ??= await open(file.path, 'w');
    let pending = parts;
    let at = position;
    let left = 0;
    for (const p of pending) left += p.length;
    while (left > 0) {
      const { bytesWritten } = await file.handle.writev(pending, at);
      if (bytesWritten === 0) throw new Error('spill write wrote nothing');
      at += bytesWritten;
      left -= bytesWritten;
      if (left > 0) pending = dropBytes(pending, bytesWritten);
    }
  }

  private newFile(): SpillFile {
    this.fileIndex += 1;
    const name = spillFileName(this.config.chainId, this.fileIndex);
    const f = new SpillFile(name, join(this.config.dir, name));
    this.files.push(f);
    this.current = f;
    return f;
  }

  /** The spiller is done with `file`: the writer may delete it once read. */
  private async seal(file: SpillFile): Promise<void> {
    file.sealed = true;
    if (this.current === file) this.current = undefined;
    const h = file.handle;
    file.handle = undefined;
    await h?.close().catch(() => {});
  }

  // ---- the writer's side -----------------------------------------------------------------------------

  /** True when read() has something to do now (frames, a mark, a file to finish, the end of the spill). */
  get readable(): boolean {
    if (this.readPausedUntil !== 0 && Date.now() < this.readPausedUntil) return false;
    const f = this.files[0];
    if (f === undefined) return this.active && this.idle;
    if (f.readOffset < f.written) return true;
    if (f.marks.length > 0 && f.marks[0]!.offset <= f.readOffset) return true;
    if (f.sealed) return true;
    return this.finishable();
  }

  /** Spill files read to the end, waiting for the fdatasync that lets them go. */
  get hasDone(): boolean {
    return this.done.length > 0;
  }

  /** Every spilled event was handed to the writer, and nothing more is coming: newer events may use memory again. */
  private finishable(): boolean {
    if (!this.active || !this.idle) return false;
    return this.files.every((f) => f.consumed);
  }

  /**
   * The next frames and marks in stream order (frames are views into the read buffer, valid until the
   * next call), and the bytes read: about `maxBytes` at most (a frame larger than that comes whole).
   * Call when `readable`.
   */
  async read(maxBytes: number = READ_BYTES): Promise<{ items: SpillItem[]; bytes: number }> {
    const items: SpillItem[] = [];
    let bytes = 0;
    const f = this.files[0];
    if (f !== undefined) {
      takeMarks(f, f.readOffset, items);
      if (f.readOffset < f.written) bytes = await this.readFrames(f, items, maxBytes);
      if (f.sealed && f.consumed) {
        this.files.shift();
        await this.finishFile(f);
      }
    }
    if (this.finishable()) {
      // Checked and switched with no await in between: an event appended from now on goes to memory
      // and is chained after everything handed out here.
      this.active = false;
      const rest = this.files.splice(0);
      this.current = undefined;
      for (const r of rest) {
        r.sealed = true;
        await this.finishFile(r);
      }
    }
    return { items, bytes };
  }

  private async finishFile(f: SpillFile): Promise<void> {
    this.done.push(f);
    const handles = [f.reader, f.handle];
    f.reader = undefined;
    f.handle = undefined;
    for (const h of handles) await h?.close().catch(() => {});
  }

  private async readFrames(f: SpillFile, items: SpillItem[], maxBytes: number): Promise<number> {
    this.readBuffer ??= Buffer.allocUnsafe(READ_BYTES);
    const buf = this.readBuffer;
    let bytesRead: number;
    try {
      f.reader ??= await open(f.path, 'r');
      ({ bytesRead } = await f.reader.read(buf, 0, Math.min(buf.length, Math.max(maxBytes, FRAME_HEADER_BYTES), f.written - f.readOffset), f.readOffset));
    } catch (err) {
      this.readFailed(f, err);
      return 0;
    }
    let at = 0;
    while (at < bytesRead) {
      takeMarks(f, f.readOffset + at, items);
      const h = readFrameHeader(buf, at, bytesRead);
      if (h === 'invalid' || (h === 'short' && at === 0)) {
        this.unreadable(f, f.readOffset + at, items);
        return at;
      }
      if (h === 'short' || (!h.complete && at > 0)) break; // the next read starts with it
      if (!h.complete) {
        // A frame larger than the read buffer: read it on its own.
        const big = Buffer.allocUnsafe(h.total);
        let whole: ReturnType<typeof readFrameHeader>;
        try {
          whole = readFrameHeader(big, 0, (await f.reader.read(big, 0, h.total, f.readOffset)).bytesRead);
        } catch (err) {
          this.readFailed(f, err);
          return 0;
        }
        if (typeof whole === 'string' || !whole.complete) {
          this.unreadable(f, f.readOffset, items);
          return 0;
        }
        items.push(frameItem(big, 0, whole.prefix, whole.suffix));
        f.readOffset += h.total;
        f.recordsRead += 1;
        takeMarks(f, f.readOffset, items);
        return h.total;
      }
      items.push(frameItem(buf, at, h.prefix, h.suffix));
      f.recordsRead += 1;
      at += h.total;
    }
    f.readOffset += at;
    takeMarks(f, f.readOffset, items);
    return at;
  }

  /** An I/O error reading a spill file: nothing is lost yet; the writer tries again a little later. */
  private readFailed(f: SpillFile, err: unknown): void {
    this.config.onError(new Error(`querytrail journal could not read the spill file ${f.path}, retrying: ${String(err)}`, { cause: err }));
    const h = f.reader;
    f.reader = undefined;
    void h?.close().catch(() => {});
    this.readPausedUntil = Date.now() + READ_RETRY_MS;
    setTimeout(() => this.progress(), READ_RETRY_MS).unref();
  }

  /**
   * Bytes of ours that no longer read back as frames (the file was damaged): the records from there to
   * the end of what was written are lost, and counted where they were.
   */
  private unreadable(f: SpillFile, offset: number, items: SpillItem[]): void {
    const lost = Math.max(0, f.recordsWritten - f.recordsRead);
    f.readOffset = offset;
    takeMarks(f, offset, items);
    items.push({ offset, count: Math.max(1, lost), accounted: lost, since: undefined, cause: `spill file damaged (${f.name} at byte ${offset})` });
    this.config.onError(new Error(`querytrail journal: the spill file ${f.path} is damaged at byte ${offset}; ${lost} records in it are lost`));
    f.readOffset = f.written;
    f.recordsRead = f.recordsWritten;
    takeMarks(f, f.readOffset, items);
  }

  /** Deletes the files read to the end. Call only once the journal segment holding their records is fdatasync'd. */
  async removeDone(): Promise<void> {
    const done = this.done;
    this.done = [];
    for (const f of done) {
      try {
        await unlink(f.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.config.onError(new Error(`querytrail journal could not delete the chained spill file ${f.path}: ${String(err)}`, { cause: err }));
        }
      }
      this.diskBytes -= f.written;
    }
  }

  /** After the final checkpoint: closes what is open and removes the spill directory if it is empty. */
  async close(): Promise<void> {
    for (const f of this.files) {
      for (const h of [f.handle, f.reader]) await h?.close().catch(() => {});
      f.handle = undefined;
      f.reader = undefined;
    }
    // Set-aside torn frames (and anything else) keep the directory.
    await rmdir(this.config.dir).catch(() => {});
  }
}

function frameItem(buf: Buffer, at: number, prefix: number, suffix: number): SpillItem {
  const p = at + FRAME_HEADER_BYTES;
  return { prefix: buf.subarray(p, p + prefix), suffix: buf.subarray(p + prefix, p + prefix + suffix) };
}

/** Moves the file's marks at or before `offset` to `items`. */
function takeMarks(f: SpillFile, offset: number, items: SpillItem[]): void {
  while (f.marks.length > 0 && f.marks[0]!.offset <= offset) items.push(f.marks.shift()!);
}

/** Consecutive losses at one place with one cause are one mark. */
function pushMark(f: SpillFile, m: SpillMark): void {
  const last = f.marks[f.marks.length - 1];
  if (last !== undefined && last.offset === m.offset && last.cause === m.cause) {
    last.count += m.count;
    last.accounted += m.accounted;
    return;
  }
  f.marks.push(m);
}

function addPendingMark(marks: PendingMark[], at: number, count: number, since: number | undefined, cause: string): void {
  const last = marks[marks.length - 1];
  if (last !== undefined && last.at === at && last.cause === cause) last.count += count;
  else marks.push({ at, count, since, cause });
}

/** The record's line with the sentinel as its chain position, written after the frame header. */
function writeWithSentinel(out: BatchBuffers, event: Spillable, sentinel: IntegrityInfo): void {
  if (!isJournalRecord(event)) {
    event.integrity = sentinel;
    try {
      out.utf8(serializeEvent(event));
    } finally {
      // The event object is the listeners' too: it was not chained here.
      event.integrity = undefined;
    }
    return;
  }
  if (event.writeLine !== undefined) {
    try {
      event.writeLine(out, sentinel);
      return;
    } catch {
      out.truncateLine(FRAME_HEADER_BYTES);
    }
  }
  try {
    out.utf8(event.line(sentinel));
  } catch {
    // As the writer does: the guarded serialiser marks what it replaced.
    const e = event.toEvent();
    e.integrity = sentinel;
    try {
      out.utf8(serializeEvent(e));
    } finally {
      e.integrity = undefined; // the listeners' object: not chained here
    }
  }
}
