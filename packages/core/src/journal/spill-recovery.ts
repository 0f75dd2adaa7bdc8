import { appendFileSync, closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { eventIdOf, FRAME_HEADER_BYTES, readFrameHeader } from './spill-frame.js';
import { listSegments } from './segment-files.js';
import { parseSpillName, SPILL_DIR, SpillFile, type SpillName, spillFileName } from './spill.js';

/**
 * Spill files left by an earlier process (it was killed before the writer chained them): their
 * records come first in the new chain. Runs once, synchronously, when the journal starts.
 *
 * - A frame cut short by the crash (a spill write interrupted) was never whole, so nothing can be
 *   chained from it: its bytes are appended to `<file>.torn`, the file is cut back to its last whole
 *   frame, and the writer counts it in a sink.gap record.
 * - Records the earlier process had already chained (it died between chaining a file and deleting
 *   it) are not chained twice: the newest segments are read for their event ids, the spilled records
 *   found there (a prefix of the spill, which is chained in order) are skipped, and the file is
 *   renamed to say where the rest starts (so a crash during this run still knows).
 */

export interface RecoveredSpill {
  files: SpillFile[];
  /** Records to chain. */
  records: number;
  /** Names of the files holding them, in order. */
  names: string[];
  /** Frames set aside as torn. */
  torn: number;
}

const SCAN_BYTES = 1024 * 1024;
/** How much of a frame's prefix or a line's start holds its event_id. */
const HEAD_PEEK = 160;
/** Segments read for the event ids already chained. */
const SEGMENTS_CHECKED = 2;

interface Scan {
  spill: SpillName;
  path: string;
  /** End of the last whole frame. */
  validEnd: number;
  size: number;
  /** Whole frames from spill.offset on. */
  frames: number;
  /** Offset just after the last frame already chained, and how many frames that is (from spill.offset). */
  chainedEnd: number;
  chainedFrames: number;
}

export function recoverSpill(journalDir: string, onError: (e: Error) => void): RecoveredSpill | undefined {
  const dir = join(journalDir, SPILL_DIR);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return undefined;
  }
  const spills = entries
    .map(parseSpillName)
    .filter((s): s is SpillName => s !== undefined)
    .sort((a, b) => (a.chainId === b.chainId ? a.index - b.index : a.chainId < b.chainId ? -1 : 1));
  if (spills.length === 0) return undefined;

  const chained = chainedEventIds(journalDir);
  const scans = spills.map((s) => scanFile(dir, s, chained));
  // The spill is chained in order: everything up to the last record found in the journal was chained.
  let last = -1;
  scans.forEach((s, i) => {
    if (s.chainedFrames > 0) last = i;
  });
  if (last >= 0) syncNewestSegments(journalDir);

  const result: RecoveredSpill = { files: [], records: 0, names: [], torn: 0 };
  scans.forEach((s, i) => {
    const torn = s.validEnd < s.size;
    if (torn) {
      setAsideTorn(s);
      result.torn += 1;
    }
    let start = s.spill.offset;
    let frames = s.frames;
    if (i < last || (i === last && s.chainedEnd === s.validEnd)) {
      frames = 0;
      start = s.validEnd;
    } else if (i === last) {
      frames -= s.chainedFrames;
      start = s.chainedEnd;
    }
    if (frames === 0 && !torn) {
      // Nothing left to chain: the records are in the journal (or the file never held any).
      removeQuietly(s.path, onError);
      return;
    }
    let name = s.spill.name;
    if (start !== s.spill.offset && frames > 0) {
      try {
        renameSync(s.path, join(dir, spillFileName(s.spill.chainId, s.spill.index, start)));
        name = spillFileName(s.spill.chainId, s.spill.index, start);
      } catch (err) {
        // Skipped in this run all the same; only a crash before it ends would chain them twice.
        onError(new Error(`querytrail journal could not rename the spill file ${s.path}: ${String(err)}`, { cause: err }));
      }
    }
    const f = new SpillFile(name, join(dir, name));
    f.written = s.validEnd;
    f.readOffset = frames > 0 ? start : s.validEnd;
    f.sealed = true;
    f.recordsWritten = frames;
    if (torn) f.marks.push({ offset: s.validEnd, count: 1, accounted: 0, since: undefined, cause: `a spill frame torn by a crash, set aside in ${SPILL_DIR}/${s.spill.name}.torn` });
    result.files.push(f);
    result.records += frames;
    if (frames > 0) result.names.push(name);
  });
  syncDirectory(dir);
  return result;
}

/** Walks the frames of a spill file; notes the last one whose event_id is in `chained`. */
function scanFile(dir: string, spill: SpillName, chained: Set<string>): Scan {
  const path = join(dir, spill.name);
  const fd = openSync(path, 'r');
  const scan: Scan = { spill, path, validEnd: spill.offset, size: 0, frames: 0, chainedEnd: spill.offset, chainedFrames: 0 };
  try {
    const size = fstatSync(fd).size;
    scan.size = size;
    const buf = Buffer.allocUnsafe(SCAN_BYTES);
    let pos = spill.offset;
    const frame = (head: string, end: number): void => {
      scan.frames += 1;
      scan.validEnd = end;
      const id = eventIdOf(head);
      if (id !== undefined && chained.has(id)) {
        scan.chainedEnd = end;
        scan.chainedFrames = scan.frames;
      }
    };
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) break;
      let at = 0;
      let stop = false;
      while (at < n) {
        const h = readFrameHeader(buf, at, n);
        if (h === 'invalid') {
          stop = true;
          break;
        }
        if (h === 'short' || !h.complete) {
          if (h !== 'short' && pos + at + h.total <= size && at === 0) {
            // A frame larger than the scan buffer: it is whole if it ends inside the file with '}'.
            const lastByte = Buffer.alloc(1);
            readSync(fd, lastByte, 0, 1, pos + h.total - 1);
            if (lastByte[0] !== 0x7d) {
              stop = true;
              break;
            }
            frame(buf.toString('latin1', FRAME_HEADER_BYTES, Math.min(n, FRAME_HEADER_BYTES + HEAD_PEEK)), pos + h.total);
            at = h.total;
            break;
          }
          if (at === 0 || pos + n >= size) stop = true; // the file ends inside this frame: torn
          break;
        }
        frame(buf.toString('latin1', at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + Math.min(h.prefix, HEAD_PEEK)), pos + at + h.total);
        at += h.total;
      }
      if (stop) break;
      pos += at;
    }
  } finally {
    closeSync(fd);
  }
  return scan;
}

/** Moves the bytes after the last whole frame to <file>.torn and cuts the file there. */
function setAsideTorn(s: Scan): void {
  const length = s.size - s.validEnd;
  const torn = Buffer.allocUnsafe(length);
  const fd = openSync(s.path, 'r+');
  try {
    readSync(fd, torn, 0, length, s.validEnd);
    appendFileSync(join(s.path, '..', `${s.spill.name}.torn`), torn);
    ftruncateSync(fd, s.validEnd);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The event ids of the records in the newest segments of the journal (where a crash leaves chained spill records). */
function chainedEventIds(journalDir: string): Set<string> {
  const ids = new Set<string>();
  for (const path of newestSegments(journalDir)) {
    forEachLineHead(path, (head) => {
      const id = eventIdOf(head);
      if (id !== undefined) ids.add(id);
    });
  }
  return ids;
}

function newestSegments(journalDir: string): string[] {
  const out: string[] = [];
  const segments = listSegments(journalDir);
  for (let i = segments.length - 1; i >= 0 && out.length < SEGMENTS_CHECKED; i--) {
    const path = join(journalDir, segments[i]!.file);
    if (statSync(path).size > 0) out.push(path);
  }
  return out;
}

/** Skipped records are now only in those segments: make them durable before the spill copy goes. */
function syncNewestSegments(journalDir: string): void {
  for (const path of newestSegments(journalDir)) {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Calls `visit` with the first bytes (latin1) of every line of a file, reading it in chunks. */
function forEachLineHead(path: string, visit: (head: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(SCAN_BYTES);
    let pos = 0;
    let inLine = false; // the chunk starts in the middle of a line already visited
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      let at = 0;
      if (inLine) {
        const nl = chunk.indexOf(0x0a);
        if (nl < 0) {
          pos += n;
          continue;
        }
        at = nl + 1;
        inLine = false;
      }
      while (at < n) {
        // Too little of the line in this chunk to see its head: read again from its start.
        if (n - at < HEAD_PEEK && pos + n < size && at > 0) break;
        visit(chunk.toString('latin1', at, Math.min(n, at + HEAD_PEEK)));
        const nl = chunk.indexOf(0x0a, at);
        if (nl < 0) {
          inLine = true;
          at = n;
          break;
        }
        at = nl + 1;
      }
      pos += at;
    }
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string, onError: (e: Error) => void): void {
  try {
    unlinkSync(path);
  } catch (err) {
    onError(new Error(`querytrail journal could not delete the chained spill file ${path}: ${String(err)}`, { cause: err }));
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; the renames are still there after a process crash.
  }
}
