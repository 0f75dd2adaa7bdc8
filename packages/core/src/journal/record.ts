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
  /** The event as an object (memoised): the one listeners see; its `integrity` is set when it is chained. */
  toEvent(): QuerytrailEvent;
}

export function isJournalRecord(value: QuerytrailEvent | JournalRecord): value is JournalRecord {
  return typeof (value as JournalRecord).line === 'function';
}
