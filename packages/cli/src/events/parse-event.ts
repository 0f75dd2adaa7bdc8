import type { QuerytrailEvent } from '@querytrail/core';
import type { StoredLine } from './line-reader.js';

/** A stored line that is not a querytrail event: reported, never silently passed over. */
export interface UnreadableLine {
  file: string;
  line: number;
  reason: string;
}

/** An event with the exact bytes it was stored as (what --format jsonl prints, so copies still verify). */
export interface StoredEvent {
  event: QuerytrailEvent;
  stored: StoredLine;
}

/** Readers accept any `querytrail.event/<n>` and ignore fields they do not know (docs/events.md). */
const SCHEMA_PREFIX = 'querytrail.event/';

export function parseEvent(stored: StoredLine): StoredEvent | UnreadableLine {
  let value: unknown;
  try {
    value = JSON.parse(stored.bytes.toString('utf8'));
  } catch (err) {
    return { file: stored.file, line: stored.line, reason: `not JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { file: stored.file, line: stored.line, reason: 'not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  if (typeof record.schema !== 'string' || !record.schema.startsWith(SCHEMA_PREFIX) || typeof record.type !== 'string' || typeof record.time !== 'string') {
    return { file: stored.file, line: stored.line, reason: `not a querytrail event (schema ${JSON.stringify(record.schema)})` };
  }
  return { event: value as QuerytrailEvent, stored };
}

export function isUnreadable(x: StoredEvent | UnreadableLine): x is UnreadableLine {
  return 'reason' in x;
}
