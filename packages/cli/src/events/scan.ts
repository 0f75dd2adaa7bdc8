import { type CompiledFilter, mayMatch } from '../filter/event-filter.js';
import { LineReader, type StoredLine } from './line-reader.js';
import { isUnreadable, parseEvent, type StoredEvent, type UnreadableLine } from './parse-event.js';

export interface ScanHandlers {
  /** A matching event; return false to stop the scan (a --limit reached). */
  onEvent(event: StoredEvent): unknown;
  /** A line that is not a (well-formed) querytrail event: the caller reports it. */
  onUnreadable(line: UnreadableLine): void;
  /** A file ending without a newline: a write under way, or one a crash cut short; not read. */
  onPartialTail?(file: string, bytes: number): void;
}

/** How every line the journal writes starts and ends (JSON.stringify of an event, `schema` first). */
const LINE_START = Buffer.from('{"schema":"querytrail.event/');
const LINE_END = 0x7d; // }

/**
 * A line the byte prefilter rules out is skipped unparsed only if it looks like a whole line the
 * journal wrote: cut short, overwritten at either end, or written by something else, it is parsed, so
 * damage is reported instead of hidden by the shortcut.
 */
function skippable(line: StoredLine, filter: CompiledFilter): boolean {
  const b = line.bytes;
  return !mayMatch(b, filter.needles) && b.length > LINE_START.length && b[b.length - 1] === LINE_END && b.subarray(0, LINE_START.length).equals(LINE_START);
}

/** Reads `files` in order and hands on the events `filter` selects. Returns false when stopped early. */
export function scanFiles(files: readonly string[], filter: CompiledFilter, handlers: ScanHandlers): boolean {
  for (const file of files) {
    if (!scanReader(new LineReader(file), filter, handlers)) return false;
  }
  return true;
}

/** One reader from its offset to the end of its file as it is now (tail -f calls it again later). */
export function scanReader(reader: LineReader, filter: CompiledFilter, handlers: ScanHandlers): boolean {
  let going = true;
  reader.readAvailable((stored) => {
    if (filter.needles.length > 0 && stored.oversized === undefined && skippable(stored, filter)) return true;
    const parsed = parseEvent(stored);
    if (isUnreadable(parsed)) {
      handlers.onUnreadable(parsed);
      return true;
    }
    let matched: boolean;
    try {
      matched = filter.matches(parsed.event);
    } catch (err) {
      // A shape parseEvent let through but a selection could not read: named, never a crash.
      handlers.onUnreadable({ file: stored.file, line: stored.line, reason: `could not be read as an event (${(err as Error).message})` });
      return true;
    }
    if (!matched) return true;
    going = handlers.onEvent(parsed) !== false;
    return going;
  });
  if (going && reader.pending > 0) handlers.onPartialTail?.(reader.file, reader.pending);
  return going;
}
