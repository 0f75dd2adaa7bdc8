import { isUtf8 } from 'node:buffer';
import type { QuerytrailEvent } from '@querytrail/core';
import { MAX_LINE_BYTES, type StoredLine } from './line-reader.js';

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fields every command relies on, checked once here, so a damaged or foreign record is named as
 * unreadable instead of crashing a formatter further on. Optional parts must at least have their type.
 */
function shapeProblem(r: Record<string, unknown>): string | undefined {
  if (typeof r.event_id !== 'string') return 'no event_id';
  if (Number.isNaN(Date.parse(String(r.time)))) return `time ${JSON.stringify(r.time)} is not a time`;
  for (const key of ['source', 'actor', 'request', 'trace', 'db', 'orm', 'statement', 'sensitivity', 'result', 'policy', 'gap', 'genesis', 'alert', 'integrity'] as const) {
    if (r[key] !== undefined && !isObject(r[key])) return `${key} is not an object`;
  }
  if (r.objects !== undefined && (!Array.isArray(r.objects) || !r.objects.every((o) => isObject(o) && typeof o.name === 'string'))) return 'objects is not a list of named objects';
  const s = r.sensitivity as Record<string, unknown> | undefined;
  if (s && (!Array.isArray(s.tags ?? []) || !Array.isArray(s.matched ?? []))) return 'sensitivity.tags or .matched is not a list';
  const matched = (s?.matched ?? []) as unknown[];
  if (!matched.every((m) => isObject(m) && typeof m.object === 'string' && typeof m.column === 'string')) return 'sensitivity.matched entries need object and column';
  const gap = r.gap as Record<string, unknown> | undefined;
  if (gap && typeof gap.count !== 'number') return 'gap.count is not a number';
  const actor = r.actor as Record<string, unknown> | undefined;
  if (actor && typeof actor.id !== 'string') return 'actor.id is not a string';
  if (actor?.impersonator !== undefined && !(isObject(actor.impersonator) && typeof actor.impersonator.id === 'string')) return 'actor.impersonator needs an id';
  const orm = r.orm as Record<string, unknown> | undefined;
  if (orm?.callers !== undefined && !(Array.isArray(orm.callers) && orm.callers.every(isObject))) return 'orm.callers is not a list of objects';
  for (const o of (r.objects ?? []) as Record<string, unknown>[]) {
    if (o.schema !== undefined && typeof o.schema !== 'string') return 'objects[].schema is not a string';
    if (o.columns !== undefined && !(Array.isArray(o.columns) && o.columns.every((c) => typeof c === 'string'))) return 'objects[].columns is not a list of names';
  }
  const st = r.statement as Record<string, unknown> | undefined;
  for (const key of ['text', 'command', 'summary', 'class'] as const) if (st?.[key] !== undefined && typeof st[key] !== 'string') return `statement.${key} is not a string`;
  const result = r.result as Record<string, unknown> | undefined;
  for (const key of ['rows_returned', 'rows_affected'] as const) if (result?.[key] !== undefined && typeof result[key] !== 'number') return `result.${key} is not a number`;
  const source = r.source as Record<string, unknown> | undefined;
  if (source !== undefined && !isObject(source.service)) return 'source.service is not an object';
  if (r.duration_us !== undefined && typeof r.duration_us !== 'number') return 'duration_us is not a number';
  return undefined;
}

export function parseEvent(stored: StoredLine): StoredEvent | UnreadableLine {
  const at = { file: stored.file, line: stored.line };
  if (stored.oversized !== undefined) return { ...at, reason: `a line of ${stored.oversized} bytes, beyond this reader's limit of ${MAX_LINE_BYTES} (verify still checks it)` };
  if (stored.bytes.length === 0) return { ...at, reason: 'empty line' };
  // The journal writes UTF-8 only; anything else would not survive being printed byte for byte.
  if (!isUtf8(stored.bytes)) return { ...at, reason: 'not UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(stored.bytes.toString('utf8'));
  } catch (err) {
    return { ...at, reason: `not JSON (${(err as Error).message})` };
  }
  if (!isObject(value)) return { ...at, reason: 'not a JSON object' };
  if (typeof value.schema !== 'string' || !value.schema.startsWith(SCHEMA_PREFIX) || typeof value.type !== 'string') {
    return { ...at, reason: `not a querytrail event (schema ${JSON.stringify(value.schema)})` };
  }
  const problem = shapeProblem(value);
  if (problem) return { ...at, reason: `not a well-formed querytrail event: ${problem}` };
  return { event: value as unknown as QuerytrailEvent, stored };
}

export function isUnreadable(x: StoredEvent | UnreadableLine): x is UnreadableLine {
  return 'reason' in x;
}
