import { type CompiledFilter, mayMatch } from '../filter/event-filter.js';
import { LineReader } from './line-reader.js';
import { isUnreadable, parseEvent, type StoredEvent, type UnreadableLine } from './parse-event.js';

export interface ScanHandlers {
  /** A matching event; return false to stop the scan (a --limit reached). */
  onEvent(event: StoredEvent): unknown;
  /**
   * A line that is not a querytrail event, among those the filter had to read (a line the byte
   * prefilter rules out is not parsed): the caller reports it. `querytrail verify` checks every byte.
   */
  onUnreadable(line: UnreadableLine): void;
  /** A file ending without a newline: a write under way, or one a crash cut short; not read. */
  onPartialTail?(file: string, bytes: number): void;
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
    if (stored.bytes.length === 0) {
      handlers.onUnreadable({ file: stored.file, line: stored.line, reason: 'empty line' });
      return true;
    }
    if (!mayMatch(stored.bytes, filter.needles)) return true;
    const parsed = parseEvent(stored);
    if (isUnreadable(parsed)) {
      handlers.onUnreadable(parsed);
      return true;
    }
    if (!filter.matches(parsed.event)) return true;
    going = handlers.onEvent(parsed) !== false;
    return going;
  });
  if (going && reader.pending > 0) handlers.onPartialTail?.(reader.file, reader.pending);
  return going;
}
