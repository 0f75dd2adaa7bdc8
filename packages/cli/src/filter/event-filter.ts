import type { ObjectRef, QuerytrailEvent } from '@querytrail/core';
import { preciseMs } from '../events/time-arg.js';

/**
 * What `search`, `tail` and `report` select. Different fields must all match; the values of one field
 * are alternatives (--actor alice --actor bob: either). Names compare case-insensitively, ids exactly.
 */
export interface EventFilter {
  /** Event types; a trailing `*` matches a prefix (`db.query*`: db.query, db.query.attempt, db.query.blocked). */
  types?: string[];
  /** actor.id, actor.impersonator.id, or the actor of any ORM call the statement served (orm.callers[].actor_id). */
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

/**
 * `users` or `app.users` names this object. An object recorded without a schema (read before the
 * catalog was, or outside it) may be in any schema, as policy treats it: `app.users` matches it too.
 */
function namesObject(filterName: string, o: ObjectRef): boolean {
  const name = o.name.toLowerCase();
  if (filterName === name) return true;
  const dot = filterName.lastIndexOf('.');
  if (dot < 0 || filterName.slice(dot + 1) !== name) return false;
  return o.schema === undefined || filterName.slice(0, dot) === o.schema.toLowerCase();
}

/** Statement events: with no `policy` field their decision was a plain allow (docs/events.md). */
const STATEMENT_TYPES = new Set(['db.query', 'db.query.attempt', 'db.query.blocked']);

function decisionOf(e: QuerytrailEvent): string | undefined {
  return e.policy?.decision ?? (STATEMENT_TYPES.has(e.type) ? 'allow' : undefined);
}

/** True when `filterName` (col, table.col or schema.table.col, lower case) names a column the event touched or matched. */
function namesColumn(filterName: string, event: QuerytrailEvent): boolean {
  const dot = filterName.lastIndexOf('.');
  const col = filterName.slice(dot + 1);
  const table = dot < 0 ? undefined : filterName.slice(0, dot);
  for (const o of event.objects ?? []) {
    if (!(o.columns ?? []).some((c) => c.toLowerCase() === col)) continue;
    if (table === undefined || namesObject(table, o)) return true;
  }
  for (const m of event.sensitivity?.matched ?? []) {
    if (m.column.toLowerCase() !== col) continue;
    if (table === undefined) return true;
    const object = m.object.toLowerCase();
    const od = object.lastIndexOf('.');
    const matchedObject: ObjectRef = od < 0 ? { type: 'unknown', name: object, access: 'read' } : { type: 'unknown', schema: object.slice(0, od), name: object.slice(od + 1), access: 'read' };
    if (namesObject(table, matchedObject)) return true;
  }
  return false;
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
    checks.push(
      (e) =>
        someEqual(actors, e.actor?.id) ||
        (e.actor?.impersonator !== undefined && actors.includes(e.actor.impersonator.id)) ||
        (e.orm?.callers ?? []).some((c) => c.actor_id !== undefined && actors.includes(c.actor_id)),
    );
  }
  if (filter.actorTypes) checks.push((e) => someEqual(filter.actorTypes, e.actor?.type));
  if (filter.requests) checks.push((e) => someEqual(filter.requests, e.request?.id) || (e.orm?.callers ?? []).some((c) => someEqual(filter.requests, c.request_id)));
  if (filter.traces) checks.push((e) => someEqual(filter.traces, e.trace?.trace_id));
  if (filter.services) checks.push((e) => someEqual(filter.services, e.source?.service?.name));
  if (tables) checks.push((e) => (e.objects ?? []).some((o) => tables.some((t) => namesObject(t, o))));
  if (columns) checks.push((e) => columns.some((c) => namesColumn(c, e)));
  if (filter.tags) checks.push((e) => (e.sensitivity?.tags ?? []).some((t) => filter.tags!.includes(t)));
  if (filter.classes) checks.push((e) => someEqual(filter.classes, e.statement?.class));
  if (commands) {
    checks.push((e) => {
      const command = e.statement?.command;
      if (typeof command !== 'string') return false;
      // `SELECT; DELETE` (a multi-statement text): each statement's command, and its first word.
      const lowered = command.toLowerCase();
      if (commands.includes(lowered)) return true;
      return lowered.split(';').some((part) => {
        const one = part.trim();
        return commands.includes(one) || commands.includes(one.split(/\s/, 1)[0]!);
      });
    });
  }
  if (filter.outcomes) checks.push((e) => someEqual(filter.outcomes, e.result?.outcome));
  if (filter.decisions) checks.push((e) => someEqual(filter.decisions, decisionOf(e)));
  if (filter.destructive !== undefined) checks.push((e) => (e.statement?.destructive === true) === filter.destructive);
  if (text !== undefined) checks.push((e) => (e.statement?.text ?? '').toLowerCase().includes(text));
  if (filter.since !== undefined) checks.push((e) => preciseMs(e.time) >= filter.since!);
  if (filter.until !== undefined) checks.push((e) => preciseMs(e.time) < filter.until!);

  // Values compared exactly appear in the line as JSON.stringify wrote them; names compared without
  // case (tables, columns, commands, text) do not narrow by bytes.
  const needles: Buffer[][] = [];
  // (Not decisions: a plain allow has no policy field to find.)
  for (const exact of [filter.actors, filter.requests, filter.traces, filter.services, filter.tags, filter.actorTypes, filter.classes, filter.outcomes]) {
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
