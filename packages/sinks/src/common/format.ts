import type { QuerytrailEvent, SinkRecord } from '@querytrail/core';
import { toOcsf } from '../ocsf/to-ocsf.js';

export type RecordFormat = 'line' | 'ocsf';

/**
 * What a log-style sink emits for one journal record: the line itself ('line': byte-exact, events and
 * checkpoints), or the OCSF object ('ocsf': datastore activity events only). undefined = skip.
 */
export function formatRecord(record: SinkRecord, format: RecordFormat): string | undefined {
  if (format === 'line') return record.line;
  if (record.kind !== 'event') return undefined;
  const event = parseEvent(record.line);
  const ocsf = event && toOcsf(event);
  return ocsf ? JSON.stringify(ocsf) : undefined;
}

export function parseEvent(line: string): QuerytrailEvent | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null ? (v as QuerytrailEvent) : undefined;
  } catch {
    return undefined;
  }
}
