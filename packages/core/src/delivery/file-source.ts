import { copyFile, mkdir, open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CursorStore, FilesCursor } from './cursor-store.js';
import { JournalListing } from './journal-listing.js';
import { completeSize } from './line-reader.js';
import type { SinkFile } from './sink.js';
import type { BatchLimits, DeliverySource, PendingBatch } from './source.js';

export const SNAPSHOT_DIR = '.snapshots';

/**
 * Whole files for a 'files' sink, chain after chain: each sealed segment once, then a snapshot of
 * the chain's checkpoint file after new segments were sealed and once the chain is closed.
 */
export class FileSource implements DeliverySource<SinkFile> {
  private journalClosed = false;

  constructor(
    private readonly dir: string,
    private readonly sinkName: string,
    private readonly store: CursorStore,
    private cursor: FilesCursor,
    private readonly limits: BatchLimits,
  ) {}

  /** The journal writing to this directory has closed: its newest segment is final too. */
  markJournalClosed(): void {
    this.journalClosed = true;
  }

  async next(): Promise<PendingBatch<SinkFile> | undefined> {
    const listing = await JournalListing.read(this.dir);
    let pos = this.cursor;
    for (;;) {
      let chain = pos.chain === null ? undefined : listing.chain(pos.chain);
      if (!chain) {
        chain = listing.chainAfter(pos.chain);
        if (!chain) break;
        pos = { type: 'files', chain: chain.chainId, segment: 0, checkpointBytes: 0, checkpointSegment: 0 };
      }
      const chainId = chain.chainId;

      // Sealed segments not delivered yet, in order, stopping at the first one still being written.
      const files: SinkFile[] = [];
      let last = pos.segment;
      for (const s of chain.segments) {
        if (s.index <= pos.segment) continue;
        if (files.length >= this.limits.maxEntries || !listing.segmentSealed(chainId, s.index, this.journalClosed)) break;
        const path = join(this.dir, s.file);
        files.push({ kind: 'segment', chainId, name: s.file, path, bytes: (await stat(path)).size });
        last = s.index;
      }
      if (files.length > 0) return { entries: files, after: { ...pos, segment: last } };

      const lastSegment = chain.segments[chain.segments.length - 1]!.index;
      const closed = listing.segmentSealed(chainId, lastSegment, this.journalClosed) && pos.segment >= lastSegment;
      if (chain.checkpointFile) {
        const bytes = await completeSize(join(this.dir, chain.checkpointFile));
        if (bytes > pos.checkpointBytes && (pos.segment > pos.checkpointSegment || closed)) {
          const snap = await this.snapshot(chain.checkpointFile, bytes);
          const file: SinkFile = { kind: 'checkpoints', chainId, name: chain.checkpointFile, path: snap, bytes };
          return { entries: [file], after: { ...pos, checkpointBytes: bytes, checkpointSegment: pos.segment } };
        }
      }
      const nextChain = closed ? listing.chainAfter(chainId) : undefined;
      if (!nextChain) break;
      pos = { type: 'files', chain: nextChain.chainId, segment: 0, checkpointBytes: 0, checkpointSegment: 0 };
    }
    if (pos.chain !== this.cursor.chain || pos.segment !== this.cursor.segment) await this.commit(pos);
    return undefined;
  }

  async commit(after: FilesCursor): Promise<void> {
    this.cursor = after;
    await this.store.save(after);
  }

  /**
   * A private copy of the checkpoint file's first `bytes` bytes (complete lines): the live file keeps
   * growing, and a sink must ship exactly what this batch names.
   */
  private async snapshot(name: string, bytes: number): Promise<string> {
    const dir = join(this.dir, SNAPSHOT_DIR, this.sinkName);
    await mkdir(dir, { recursive: true });
    const path = join(dir, name);
    const tmp = `${path}.tmp`;
    await copyFile(join(this.dir, name), tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.truncate(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    return path;
  }
}
