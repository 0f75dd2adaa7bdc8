import type { ObjectRef, QuerytrailEvent } from '@querytrail/core';
import { eventTimeMs } from '../events/time-arg.js';

/**
 * What `search`, `tail` and `report` select. Different fields must all match; the values of one field
 * are alternatives (--actor alice --actor bob: either). Names compare case-insensitively, ids exactly.
 */
export interface EventFilter {
  /** Event types; a trailing `*` matches a prefix (`db.query*`: db.query, db.query.attempt, db.query.blocked). */
  types?: string[];
  /** actor.id, or the actor of any ORM call the statement served (orm.callers[].actor_id). */
  actors?: string[];
  actorTypes?: string[];
  requests?: string[];
  traces?: string[];
  services?: string[];
  /** `table` or `schema.table`: any object the statement touched. */
  tables?: string[];
  /** `column`, `table.column` or `schema.table.column`: a column the statement touched or a sensitive one it matched. */
  columns?: string[];
  /** sensitivity.tags (pii, pci, phi, secret, ...). */
  tags?: string[];
  classes?: string[];
  /** statement.command: the first word (SELECT) or the whole command. */
  commands?: string[];
  outcomes?: string[];
  decisions?: string[];
  destructive?: boolean;
  /** Substring of statement.text (case-insensitive). */
  text?: string;
  /** Bounds on `time`, epoch ms: since inclusive, until exclusive. */
  since?: number;
  until?: number;
}

export interface CompiledFilter {
  matches(event: QuerytrailEvent): boolean;
  /**
   * Necessary byte strings: a stored line that lacks every needle of any group cannot match, so it
   * need not be parsed (the values of each exactly-compared option, as JSON-escaped text). Empty
   * when nothing narrows.
   */
  needles: Buffer[][];
}

const lower = (values: readonly string[] | undefined) => values?.map((v) => v.toLowerCase());
const someEqual = (values: readonly string[] | undefined, value: string | undefined) => values === undefined || (value !== undefined && values.includes(value));

function typeMatcher(types: readonly string[] | undefined): ((type: string) => boolean) | undefined {
  if (!types || types.length === 0) return undefined;
  const exact = new Set(types.filter((t) => !t.endsWith('*')));
  const prefixes = types.filter((t) => t.endsWith('*')).map((t) => t.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

function objectNames(o: ObjectRef): string[] {
  const name = o.name.toLowerCase();
  return o.schema ? [name, `${o.schema.toLowerCase()}.${name}`] : [name];
}

/** Every way a filter may name a column the event touched or matched: col, table.col, schema.table.col. */
function columnNames(event: QuerytrailEvent): Set<string> {
  const out = new Set<string>();
  for (const o of event.objects ?? []) {
    for (const c of o.columns ?? []) {
      const col = c.toLowerCase();
      out.add(col);
      for (const n of objectNames(o)) out.add(`${n}.${col}`);
    }
  }
  for (const m of event.sensitivity?.matched ?? []) {
    const col = m.column.toLowerCase();
    const object = m.object.toLowerCase();
    out.add(col);
    out.add(`${object}.${col}`);
    const dot = object.lastIndexOf('.');
    if (dot >= 0) out.add(`${object.slice(dot + 1)}.${col}`);
  }
  return out;
}

function needle(value: string): Buffer {
  return Buffer.from(JSON.stringify(value).slice(1, -1), 'utf8');
}

export function compileFilter(filter: EventFilter): CompiledFilter {
  const typeOk = typeMatcher(filter.types);
  const tables = lower(filter.tables);
  const columns = lower(filter.columns);
  const commands = lower(filter.commands);
  const text = filter.text?.toLowerCase();
  const checks: Array<(e: QuerytrailEvent) => boolean> = [];
  if (typeOk) checks.push((e) => typeOk(e.type));
  if (filter.actors) {
    const actors = filter.actors;
    checks.push((e) => someEqual(actors, e.actor?.id) || (e.orm?.callers ?? []).some((c) => c.actor_id !== undefined && actors.includes(c.actor_id)));
  }
  if (filter.actorTypes) checks.push((e) => someEqual(filter.actorTypes, e.actor?.type));
  if (filter.requests) checks.push((e) => someEqual(filter.requests, e.request?.id) || (e.orm?.callers ?? []).some((c) => someEqual(filter.requests, c.request_id)));
  if (filter.traces) checks.push((e) => someEqual(filter.traces, e.trace?.trace_id));
  if (filter.services) checks.push((e) => someEqual(filter.services, e.source?.service?.name));
  if (tables) checks.push((e) => (e.objects ?? []).some((o) => objectNames(o).some((n) => tables.includes(n))));
  if (columns) {
    checks.push((e) => {
      const names = columnNames(e);
      return columns.some((c) => names.has(c));
    });
  }
  if (filter.tags) checks.push((e) => (e.sensitivity?.tags ?? []).some((t) => filter.tags!.includes(t)));
  if (filter.classes) checks.push((e) => someEqual(filter.classes, e.statement?.class));
  if (commands) {
    checks.push((e) => {
      const command = e.statement?.command?.toLowerCase();
      if (command === undefined) return false;
      const first = command.split(/[\s;]/, 1)[0]!;
      return commands.includes(command) || commands.includes(first);
    });
  }
  if (filter.outcomes) checks.push((e) => someEqual(filter.outcomes, e.result?.outcome));
  if (filter.decisions) checks.push((e) => someEqual(filter.decisions, e.policy?.decision));
  if (filter.destructive !== undefined) checks.push((e) => (e.statement?.destructive === true) === filter.destructive);
  if (text !== undefined) checks.push((e) => (e.statement?.text ?? '').toLowerCase().includes(text));
  if (filter.since !== undefined) checks.push((e) => eventTimeMs(e.time) >= filter.since!);
  if (filter.until !== undefined) checks.push((e) => eventTimeMs(e.time) < filter.until!);

  // Values compared exactly appear in the line as JSON.stringify wrote them; names compared without
  // case (tables, columns, commands, text) do not narrow by bytes.
  const needles: Buffer[][] = [];
  for (const exact of [filter.actors, filter.requests, filter.traces, filter.services, filter.tags, filter.actorTypes, filter.classes, filter.outcomes, filter.decisions]) {
    if (exact && exact.length > 0) needles.push(exact.map(needle));
  }
  if (filter.destructive === true) needles.push([Buffer.from('"destructive":true')]);
  if (filter.types && filter.types.length > 0) needles.push(filter.types.map((t) => needle(t.endsWith('*') ? t.slice(0, -1) : t)));

  return {
    matches: (e) => checks.every((check) => check(e)),
    needles,
  };
}

/** The prefilter: false only when the line cannot match (see CompiledFilter.needles). */
export function mayMatch(bytes: Buffer, needles: readonly Buffer[][]): boolean {
  for (const group of needles) if (!group.some((n) => bytes.includes(n))) return false;
  return true;
}
