import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CursorStore, RecordsCursor } from './cursor-store.js';
import { JournalListing } from './journal-listing.js';
import { readCompleteLines } from './line-reader.js';
import type { SinkRecord } from './sink.js';
import type { BatchLimits, DeliverySource, PendingBatch } from './source.js';

/**
 * Journal lines for a 'records' sink: every segment line (kind 'event') and every checkpoint line
 * (kind 'checkpoint'), chain after chain, only complete lines, bounded batches read from disk.
 */
export class RecordSource implements DeliverySource<SinkRecord> {
  constructor(
    private readonly dir: string,
    private readonly store: CursorStore,
    private cursor: RecordsCursor,
    private readonly limits: BatchLimits,
    private readonly warn: (message: string) => void,
  ) {}

  async next(): Promise<PendingBatch<SinkRecord> | undefined> {
    // List before reading: a segment sealed in this listing is complete on disk when we read it.
    const listing = await JournalListing.read(this.dir);
    const entries: SinkRecord[] = [];
    let bytes = 0;
    let pos = this.cursor;
    const full = () => entries.length >= this.limits.maxEntries || bytes >= this.limits.maxBytes;
    const room = () => ({ lines: this.limits.maxEntries - entries.length, bytes: this.limits.maxBytes - bytes });

    for (;;) {
      let chain = pos.chain === null ? undefined : listing.chain(pos.chain);
      if (!chain) {
        // First start, or the cursor's chain is gone (deleted after delivery): the next chain from its start.
        chain = listing.chainAfter(pos.chain);
        if (!chain) break;
        pos = { type: 'records', chain: chain.chainId, segment: chain.segments[0]!.index, offset: 0, checkpointOffset: 0, checkpointLines: 0 };
      }
      const chainId = chain.chainId;

      // Segment lines, in order.
      let segmentsDone = false;
      for (;;) {
        const seg = chain.segments.find((s) => s.index === pos.segment);
        const later = chain.segments.find((s) => s.index > pos.segment);
        if (!seg) {
          if (!later) {
            // Not created yet, or (in an ended chain) never created: a crash can set an empty segment aside.
            segmentsDone = listing.chainEnded(chainId);
            break;
          }
          pos = { ...pos, segment: later.index, offset: 0 };
          continue;
        }
        const sealed = later !== undefined || listing.chainEnded(chainId);
        const r = room();
        const chunk = await readCompleteLines(join(this.dir, seg.file), pos.offset, r.lines, r.bytes, entries.length === 0);
        for (const line of chunk.lines) {
          entries.push({ kind: 'event', line: line.toString('utf8'), chainId, dedupId: eventDedupId(line), file: seg.file });
          bytes += line.length + 1;
        }
        pos = { ...pos, offset: chunk.end };
        if (chunk.limited || full()) return this.pending(entries, pos);
        if (!sealed) break;
        if (chunk.partial > 0) {
          this.warn(`segment ${seg.file} is sealed but ends with ${chunk.partial} bytes that are not a complete line; they were skipped (querytrail verify reports them)`);
        }
        if (!later) {
          segmentsDone = true;
          break;
        }
        pos = { ...pos, segment: later.index, offset: 0 };
      }

      // Checkpoint lines of this chain.
      if (chain.checkpointFile) {
        const r = room();
        const chunk = await readCompleteLines(join(this.dir, chain.checkpointFile), pos.checkpointOffset, r.lines, r.bytes, entries.length === 0);
        let n = pos.checkpointLines;
        for (const line of chunk.lines) {
          n += 1;
          entries.push({ kind: 'checkpoint', line: line.toString('utf8'), chainId, dedupId: `checkpoint:${chainId}:${n}`, file: chain.checkpointFile });
          bytes += line.length + 1;
        }
        pos = { ...pos, checkpointOffset: chunk.end, checkpointLines: n };
        if (chunk.limited || full()) return this.pending(entries, pos);
      }

      // A chain whose files will not grow again (a later chain exists) and that is read to the end: move on.
      const nextChain = segmentsDone ? listing.chainAfter(chainId) : undefined;
      if (!nextChain) break;
      pos = { type: 'records', chain: nextChain.chainId, segment: nextChain.segments[0]!.index, offset: 0, checkpointOffset: 0, checkpointLines: 0 };
    }
    if (entries.length > 0) return this.pending(entries, pos);
    if (!sameCursor(pos, this.cursor)) await this.commit(pos); // moved past empty files or chains
    return undefined;
  }

  async commit(after: RecordsCursor): Promise<void> {
    this.cursor = after;
    await this.store.save(after);
  }

  private pending(entries: SinkRecord[], after: RecordsCursor): PendingBatch<SinkRecord> {
    return { entries, after };
  }
}

function sameCursor(a: RecordsCursor, b: RecordsCursor): boolean {
  return a.chain === b.chain && a.segment === b.segment && a.offset === b.offset && a.checkpointOffset === b.checkpointOffset;
}

/** event_id when the line is a record; otherwise (a damaged line) a hash of its bytes, still stable across resends. */
function eventDedupId(line: Buffer): string {
  try {
    const id = (JSON.parse(line.toString('utf8')) as { event_id?: unknown }).event_id;
    if (typeof id === 'string' && id.length > 0) return id;
  } catch {
    // fall through
  }
  return `sha256:${createHash('sha256').update(line).digest('hex')}`;
}
