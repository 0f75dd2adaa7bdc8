import type { ParseArgsConfig } from 'node:util';
import { parseTimeArg } from '../events/time-arg.js';
import type { EventFilter } from './event-filter.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The selection options of search, tail and report (one spec, so they never drift apart). */
export const FILTER_OPTIONS = {
  type: { type: 'string', multiple: true },
  actor: { type: 'string', multiple: true },
  'actor-type': { type: 'string', multiple: true },
  request: { type: 'string', multiple: true },
  trace: { type: 'string', multiple: true },
  service: { type: 'string', multiple: true },
  table: { type: 'string', multiple: true },
  column: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  class: { type: 'string', multiple: true },
  command: { type: 'string', multiple: true },
  outcome: { type: 'string', multiple: true },
  decision: { type: 'string', multiple: true },
  destructive: { type: 'boolean' },
  // Given once each: parsed as lists only so that a second value is refused, not silently kept instead of the first.
  text: { type: 'string', multiple: true },
  since: { type: 'string', multiple: true },
  until: { type: 'string', multiple: true },
} as const satisfies Options;

export const FILTER_HELP = `selection (repeat an option for alternatives; different options must all match):
  --type T          event type; a trailing * matches a prefix (db.query*, policy.*)
  --actor ID        actor.id, or the actor of any ORM call the statement served
  --actor-type T    human, service, bot, system
  --request ID      request.id          --trace ID   trace.trace_id (W3C, 32 hex)
  --service NAME    source.service.name
  --table T         a table or view touched: name or schema.name
  --column C        a column touched or matched as sensitive: col, table.col or schema.table.col
  --tag T           sensitivity tag (pii, pci, phi, secret, ...)
  --class C         read, write, ddl, dcl, admin, tcl, exec, unknown
  --command C       SQL command: SELECT, DELETE, ...
  --outcome O       success, failure, blocked
  --decision D      allow, alert, block, allow_override
  --destructive     only statements policy treats as destructive
  --text S          statement text contains S (case-insensitive)
  --since T         from T: 2026-12-06T09:00:00Z, 2026-12-06, or back from now: 90s, 15m, 24h, 7d, 2w
  --until T         before T (same forms)`;

const ENUMS: Record<string, readonly string[]> = {
  'actor-type': ['human', 'service', 'bot', 'system'],
  class: ['read', 'write', 'ddl', 'dcl', 'admin', 'tcl', 'exec', 'unknown'],
  outcome: ['success', 'failure', 'blocked'],
  decision: ['allow', 'alert', 'block', 'allow_override'],
};

/** The types this version writes; a newer writer's type can still be selected with a trailing `*`. */
const EVENT_TYPES = [
  'db.query.attempt',
  'db.query',
  'db.query.blocked',
  'db.connect',
  'db.disconnect',
  'policy.override',
  'policy.alert',
  'sdk.start',
  'sdk.stop',
  'heartbeat',
  'sink.gap',
  'chain.genesis',
];

function list(values: Record<string, unknown>, name: keyof typeof FILTER_OPTIONS): string[] | undefined {
  const v = values[name] as string[] | undefined;
  if (v === undefined) return undefined;
  const allowed = ENUMS[name];
  for (const x of v) {
    if (x === '') throw new Error(`--${name}: an empty value matches nothing`);
    if (allowed && !allowed.includes(x)) throw new Error(`--${name} ${JSON.stringify(x)}: expected one of ${allowed.join(', ')}`);
    if (name === 'type' && !x.endsWith('*') && !EVENT_TYPES.includes(x)) {
      throw new Error(`--type ${JSON.stringify(x)}: not an event type (${EVENT_TYPES.join(', ')}); a trailing * matches a prefix`);
    }
  }
  return v;
}

/** Options whose values are alternatives, and the filter field each fills. */
const LIST_OPTIONS: ReadonlyArray<[keyof EventFilter, keyof typeof FILTER_OPTIONS]> = [
  ['types', 'type'],
  ['actors', 'actor'],
  ['actorTypes', 'actor-type'],
  ['requests', 'request'],
  ['traces', 'trace'],
  ['services', 'service'],
  ['tables', 'table'],
  ['columns', 'column'],
  ['tags', 'tag'],
  ['classes', 'class'],
  ['commands', 'command'],
  ['outcomes', 'outcome'],
  ['decisions', 'decision'],
];

/** The EventFilter the parsed options describe; throws an error naming the bad option. */
export function filterFromOptions(values: Record<string, unknown>, now = Date.now()): EventFilter {
  const filter: EventFilter = {};
  for (const [key, option] of LIST_OPTIONS) {
    const given = list(values, option);
    if (given !== undefined) (filter as Record<string, unknown>)[key] = given;
  }
  if (values.destructive === true) filter.destructive = true;
  const once = (name: 'text' | 'since' | 'until'): string | undefined => {
    const raw = values[name] as string | string[] | undefined;
    const given = typeof raw === 'string' ? [raw] : raw;
    if (given && given.length > 1) throw new Error(`--${name} given ${given.length} times: give it once (${name === 'text' ? 'use --text for one substring' : 'a period has one start and one end'})`);
    return given?.[0];
  };
  const text = once('text');
  const since = once('since');
  const until = once('until');
  if (text !== undefined) {
    if (text === '') throw new Error('--text: an empty string matches every statement; leave it out instead');
    filter.text = text;
  }
  if (since !== undefined) filter.since = parseTimeArg('since', since, now);
  if (until !== undefined) filter.until = parseTimeArg('until', until, now);
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new Error(`--since ${since} is not before --until ${until}: nothing can match`);
  }
  return filter;
}
