import { readdir } from 'node:fs/promises';
import { parseCheckpointName, parseSegmentName } from '../journal/segment-files.js';

export interface ChainFiles {
  readonly chainId: string;
  /** Segment numbers and file names, ascending. */
  readonly segments: readonly { readonly index: number; readonly file: string }[];
  readonly checkpointFile: string | undefined;
}

/**
 * What the journal directory holds right now, chain by chain in creation order (UUIDv7 ids sort by
 * time). Taken BEFORE reading any file: whatever is sealed in this listing is complete on disk.
 */
export class JournalListing {
  readonly chains: readonly ChainFiles[];
  private readonly byId = new Map<string, number>();

  /** Lists `dir` now. */
  static async read(dir: string): Promise<JournalListing> {
    try {
      return new JournalListing(await readdir(dir));
    } catch (err) {
      // The journal has not created its directory yet: nothing to deliver so far.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new JournalListing([]);
      throw err;
    }
  }

  private constructor(names: readonly string[]) {
    const chains = new Map<string, { chainId: string; segments: { index: number; file: string }[]; checkpointFile: string | undefined }>();
    const get = (id: string) => {
      let c = chains.get(id);
      if (!c) {
        c = { chainId: id, segments: [], checkpointFile: undefined };
        chains.set(id, c);
      }
      return c;
    };
    for (const f of names) {
      const seg = parseSegmentName(f);
      if (seg) {
        get(seg.chainId).segments.push({ index: seg.index, file: f });
        continue;
      }
      const cp = parseCheckpointName(f);
      if (cp) get(cp).checkpointFile = f;
    }
    const sorted = [...chains.values()].filter((c) => c.segments.length > 0).sort((a, b) => (a.chainId < b.chainId ? -1 : 1));
    for (const c of sorted) c.segments.sort((a, b) => a.index - b.index);
    this.chains = sorted;
    for (const [i, c] of sorted.entries()) this.byId.set(c.chainId, i);
  }

  chain(id: string): ChainFiles | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.chains[i];
  }

  /** The first chain created after `id` (whether or not `id` itself is still listed). */
  chainAfter(id: string | null): ChainFiles | undefined {
    if (id === null) return this.chains[0];
    return this.chains.find((c) => c.chainId > id);
  }

  /** A later chain exists: `id` was closed (or its process died), so none of its files will grow again. */
  chainEnded(id: string): boolean {
    return this.chainAfter(id) !== undefined;
  }

  /** Segment `index` of chain `id` is sealed: a later segment or a later chain exists (or the journal is closed). */
  segmentSealed(id: string, index: number, journalClosed: boolean): boolean {
    if (journalClosed || this.chainEnded(id)) return true;
    const c = this.chain(id);
    return c?.segments.some((s) => s.index > index) ?? false;
  }
}
