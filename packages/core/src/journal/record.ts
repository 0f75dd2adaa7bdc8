import type { EventType, IntegrityInfo, QuerytrailEvent } from '../event/types.js';

/**
 * An event the journal can write without it ever being built as an object: the query path hands
 * over a compact record (a statement capture, an attempt) and the writer asks it for its JSON line
 * once the chain position is known. `toEvent()` gives the same event as an object, for listeners and
 * for the safe fallback serialisation.
 */
export interface JournalRecord {
  readonly type: EventType;
  /**
   * The record's line: one JSON object, no newline, the same JSON as `toEvent()` with `integrity`
   * set. May throw when an application-supplied value cannot be serialised; the journal then
   * serialises `toEvent()` with the guarded serialiser (serialize.ts), which marks what it replaced.
   */
  line(integrity: IntegrityInfo): string;
  /**
   * Optional fast path: writes exactly the UTF-8 bytes of `line(integrity)` into the journal's buffer,
   * piece by piece, so the writer neither builds nor encodes the whole line as a string. May throw
   * like `line()`; the journal then discards what was written and falls back to `line()`.
   *
   * Both must put `integrity` right after the head (schema, event_id, type, times), before any
   * application-supplied value: the spill cuts the line there (spill-frame.ts).
   */
  writeLine?(out: LineOut, integrity: IntegrityInfo): void;
  /**
   * The event as an object (memoised): the one listeners see; its `integrity` is set when it is
   * chained. A record that was spilled (docs/delivery.md) is encoded before its chain position is
   * known, and the journal does not see the object again: its event keeps no `integrity`. Records
   * must ignore the spill's placeholder (`seq` 0) when they set it. The journal's line is the reference.
   */
  toEvent(): QuerytrailEvent;
}

/** Where a record writes its line: appends bytes after what was written so far. */
export interface LineOut {
  /** A string of characters U+0000..U+00FF only, one byte each (callers pass ASCII). */
  latin1(text: string): void;
  /** Any string, encoded as UTF-8 (lone surrogates as U+FFFD, as Buffer.from does). */
  utf8(text: string): void;
  /** Bytes already encoded. */
  bytes(data: Uint8Array): void;
}

export function isJournalRecord(value: QuerytrailEvent | JournalRecord): value is JournalRecord {
  return typeof (value as JournalRecord).line === 'function';
}

/**
 * A LineOut that collects the line as text: `line()` of a record that writes itself piece by piece
 * (one writer, two outputs). Only the fallback paths ask for the text; the journal takes the bytes.
 */
export class TextLineOut implements LineOut {
  text = '';
  latin1(text: string): void {
    this.text += text;
  }
  utf8(text: string): void {
    this.text += text;
  }
  bytes(data: Uint8Array): void {
    this.text += Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  }
}

/** The text of what `write` writes into a LineOut. */
export function lineText(write: (out: LineOut) => void): string {
  const out = new TextLineOut();
  write(out);
  return out.text;
}
