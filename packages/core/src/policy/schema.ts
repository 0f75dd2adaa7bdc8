/**
 * The policy's input shape as a zod 4 schema, and the formatting of validation issues as
 * `path: message` lines (`windows[1].timezone: unknown time zone "Europe/Berlim"`). Checks that need
 * more than one field (window ids referenced by rules, duplicate ids) live in crossCheck().
 */
import { z } from 'zod';
import { parseColumnPattern, parseNamePattern } from './patterns.js';
import { isTimeZone, parseClock, parseInstant } from './time.js';

export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const FULL_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type DayName = (typeof DAY_NAMES)[number] | (typeof FULL_DAYS)[number];

const STATEMENT_KINDS = ['read', 'write', 'ddl', 'dcl', 'admin', 'tcl', 'exec', 'unknown'] as const;

const quote = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

const nonEmpty = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });
const id = z
  .string({ error: 'expected a string' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, { error: (iss) => `invalid id ${quote(iss.input)} (letters, digits, _ . : -)` });

const fn = <T>() => z.custom<T>((v) => typeof v === 'function', { error: 'expected a function' });
const positiveInt = z.number({ error: 'expected a number' }).int({ error: 'expected an integer' }).positive({ error: 'expected a positive integer' });

const timeZone = z.string({ error: 'expected an IANA time zone name' }).refine(isTimeZone, { error: (iss) => `unknown time zone ${quote(iss.input)}` });
const clock = z.string({ error: 'expected "HH:MM"' }).refine((v) => parseClock(v) !== undefined, { error: (iss) => `invalid time ${quote(iss.input)} (expected HH:MM, 00:00 to 24:00)` });
const instant = z
  .string({ error: 'expected an ISO 8601 date-time' })
  .refine((v) => parseInstant(v) !== undefined, { error: (iss) => `invalid date-time ${quote(iss.input)} (expected YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])` });
const day = z.enum([...DAY_NAMES, ...FULL_DAYS], { error: (iss) => `unknown day ${quote(iss.input)} (mon, tue, wed, thu, fri, sat, sun)` });

const columnPattern = z.string({ error: 'expected "schema.table.column"' }).superRefine((v, ctx) => {
  const r = parseColumnPattern(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
});
const namePattern = (parts: 1 | 2, what: string) =>
  z.string({ error: `expected ${what}` }).superRefine((v, ctx) => {
    const r = parseNamePattern(v, parts);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  });
const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1, { error: 'must not be empty' })], { error: 'expected a value or a list of values' });

const category = z
  .string({ error: 'expected a category (pii, pci, phi, secret or your own)' })
  .regex(/^[a-z][a-z0-9_.-]*$/, { error: (iss) => `invalid category ${quote(iss.input)} (lower case letters, digits, _ . -)` });

const windowSchema = z.strictObject({
  id,
  description: z.string().optional(),
  // recurring
  days: z.array(day).min(1, { error: 'list at least one day' }).optional(),
  start: clock.optional(),
  end: clock.optional(),
  // one-off
  from: instant.optional(),
  to: instant.optional(),
  timezone: timeZone.optional(),
});

const scopeSchema = z.strictObject({
  env: oneOrMany(nonEmpty).optional(),
  database: oneOrMany(namePattern(1, 'a database name')).optional(),
  schema: oneOrMany(namePattern(1, 'a schema name')).optional(),
  table: oneOrMany(namePattern(2, '"table" or "schema.table"')).optional(),
  role: oneOrMany(nonEmpty).optional(),
  /** app, workstation, migration, or your own label (a statement without one counts as app). */
  source: oneOrMany(nonEmpty).optional(),
  actor: oneOrMany(nonEmpty).optional(),
});

const matchSchema = z.strictObject({
  destructive: z.boolean({ error: 'expected true or false' }).optional(),
  unknown: z.boolean({ error: 'expected true or false' }).optional(),
  kinds: oneOrMany(z.enum(STATEMENT_KINDS, { error: (iss) => `unknown statement kind ${quote(iss.input)} (${STATEMENT_KINDS.join(', ')})` })).optional(),
  commands: oneOrMany(nonEmpty).optional(),
  sensitive: z.union([z.boolean(), oneOrMany(category)], { error: 'expected true or a list of categories' }).optional(),
});

const modeSchema = z.enum(['enforce', 'monitor'], { error: (iss) => `unknown mode ${quote(iss.input)} (enforce, monitor)` });
const severity = z.enum(['low', 'medium', 'high', 'critical'], { error: (iss) => `unknown severity ${quote(iss.input)} (low, medium, high, critical)` });
const windowRefs = z.union([z.literal('*', { error: 'expected a list of window ids or "*"' }), z.array(id, { error: 'expected a list of window ids or "*"' })], {
  error: 'expected a list of window ids or "*"',
});

const ruleSchema = z.strictObject({
  id,
  description: z.string().optional(),
  match: matchSchema.optional(),
  scope: scopeSchema.optional(),
  except: scopeSchema.optional(),
  action: z.enum(['alert', 'block'], { error: (iss) => `unknown action ${quote(iss.input)} (alert, block)` }),
  reason: z.string().optional(),
  severity: severity.optional(),
  windows: windowRefs.optional(),
  approvals: z.boolean({ error: 'expected true or false' }).optional(),
  breakGlass: z.boolean({ error: 'expected true or false' }).optional(),
  mode: modeSchema.optional(),
});

const builtinSchema = (actions: readonly ['alert', 'block']) =>
  z.strictObject({
    action: z.enum(actions, { error: (iss) => `unknown action ${quote(iss.input)} (${actions.join(', ')})` }).optional(),
    scope: scopeSchema.optional(),
    except: scopeSchema.optional(),
    windows: windowRefs.optional(),
    approvals: z.boolean({ error: 'expected true or false' }).optional(),
    breakGlass: z.boolean({ error: 'expected true or false' }).optional(),
    mode: modeSchema.optional(),
    severity: severity.optional(),
  });

const ticketSchema = z.strictObject({
  ticket: nonEmpty,
  actor: nonEmpty,
  approver: nonEmpty.optional(),
  expires: instant,
});

const thresholds = z.strictObject({ alert: positiveInt.optional(), block: positiveInt.optional() });

export interface ApprovalRecord {
  ticket: string;
  /** The actor id the ticket was issued to. */
  actor: string;
  approver?: string;
  expires: string | Date;
}

export const policySchema = z.strictObject({
  version: z.literal(1, { error: 'expected 1' }).optional(),
  mode: modeSchema.optional(),
  sensitive: z
    .array(
      z.strictObject({
        id: id.optional(),
        category,
        columns: oneOrMany(columnPattern),
        tags: z.array(category).optional(),
        description: z.string().optional(),
      }),
    )
    .optional(),
  /** Treat a read whose columns could not be resolved (SELECT * without a catalog, count(*)) as reading every column. Default true. */
  matchUnresolvedReads: z.boolean({ error: 'expected true or false' }).optional(),
  views: z
    .record(
      namePattern(2, '"schema.view"'),
      z.strictObject({
        from: z.array(namePattern(2, '"schema.table"')).optional(),
        columns: z.record(nonEmpty, oneOrMany(columnPattern)).optional(),
      }),
    )
    .optional(),
  windows: z.array(windowSchema).optional(),
  destructive: builtinSchema(['alert', 'block']).optional(),
  unknown: builtinSchema(['alert', 'block']).optional(),
  rules: z.array(ruleSchema).optional(),
  approvals: z
    .strictObject({
      dualControl: z.boolean({ error: 'expected true or false' }).optional(),
      approvers: z.array(nonEmpty).optional(),
      tickets: z.array(ticketSchema).optional(),
      resolve: fn<(ticket: string) => ApprovalRecord | undefined>().optional(),
    })
    .optional(),
  breakGlass: z
    .strictObject({
      allowed: z.boolean({ error: 'expected true or false' }).optional(),
      roles: z.array(nonEmpty).optional(),
      actors: z.array(nonEmpty).optional(),
    })
    .optional(),
  bulk: z
    .strictObject({
      categories: z.array(category).optional(),
      perStatement: thresholds.optional(),
      perActor: thresholds.extend({ windowSeconds: positiveInt }).optional(),
      blockSeconds: positiveInt.optional(),
      blockScope: z.enum(['all', 'sensitive'], { error: (iss) => `unknown blockScope ${quote(iss.input)} (all, sensitive)` }).optional(),
      mode: modeSchema.optional(),
      breakGlass: z.boolean({ error: 'expected true or false' }).optional(),
      maxActors: positiveInt.optional(),
    })
    .optional(),
  onAlert: oneOrMany(fn<import('./alerts.js').AlertHook>()).optional(),
  alertTimeoutMs: positiveInt.optional(),
});

/** What definePolicy accepts: the typed object, or the parsed content of a YAML/JSON file. */
export type PolicyInput = z.input<typeof policySchema>;
export type ParsedPolicy = z.output<typeof policySchema>;
export type ScopeInput = z.output<typeof scopeSchema>;
export type RuleInput = z.output<typeof ruleSchema>;
export type WindowInput = z.output<typeof windowSchema>;

export interface PolicyIssue {
  path: string;
  message: string;
}

/** `['windows', 1, 'timezone']` → `windows[1].timezone`; keys that are not identifiers are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out === '' ? '(policy)' : out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

type Issue = z.core.$ZodIssue;

/** zod issues → `path: message`; a union reports the branch that fits the value (a list or a single value). */
export function issuesOf(error: z.ZodError, input: unknown): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  const walk = (iss: Issue, base: readonly PropertyKey[]): void => {
    const path = [...base, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) out.push({ path: formatPath([...path, k]), message: 'unknown field' });
    } else if (iss.code === 'invalid_type' && valueAt(input, path) === undefined) {
      out.push({ path: formatPath(path), message: 'required' });
    } else if (iss.code === 'invalid_key') {
      for (const sub of iss.issues) walk({ ...sub, path: [] } as Issue, path);
    } else if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      const isList = Array.isArray(valueAt(input, path));
      // The branch that got past the value's own type: a list branch for a list, a scalar one otherwise.
      const fits = iss.errors.filter((branch) => branch.every((b) => !(b.path.length === 0 && b.code === 'invalid_type')));
      const pick = fits.find((branch) => branch.some((b) => b.path.length > 0) === isList) ?? (fits.length === 1 ? fits[0] : undefined);
      if (pick) for (const sub of pick) walk(sub, path);
      else out.push({ path: formatPath(path), message: iss.message });
    } else {
      out.push({ path: formatPath(path), message: iss.message });
    }
  };
  for (const iss of error.issues) walk(iss, []);
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks across fields, on the raw input (so they are reported together with the schema's issues). */
export function crossCheck(input: unknown): PolicyIssue[] {
  const out: PolicyIssue[] = [];
  if (!isObj(input)) return out;
  const windowIds = new Set<string>();
  if (Array.isArray(input.windows)) {
    input.windows.forEach((w, i) => {
      if (!isObj(w)) return;
      if (typeof w.id === 'string') {
        if (windowIds.has(w.id)) out.push({ path: `windows[${i}].id`, message: `duplicate window id ${quote(w.id)}` });
        windowIds.add(w.id);
      }
      const recurring = w.days !== undefined || w.start !== undefined || w.end !== undefined;
      const once = w.from !== undefined || w.to !== undefined;
      if (recurring && once) out.push({ path: `windows[${i}]`, message: 'a window is either recurring (days, start, end) or one-off (from, to), not both' });
      else if (recurring) {
        for (const k of ['days', 'start', 'end', 'timezone'] as const) if (w[k] === undefined) out.push({ path: `windows[${i}].${k}`, message: 'required for a recurring window' });
        if (typeof w.start === 'string' && typeof w.end === 'string' && parseClock(w.start) !== undefined && parseClock(w.start) === parseClock(w.end)) {
          out.push({ path: `windows[${i}].end`, message: 'equals start (use 00:00 to 24:00 for a whole day)' });
        }
        if (typeof w.start === 'string' && parseClock(w.start) === 24 * 60) out.push({ path: `windows[${i}].start`, message: '24:00 is only valid as an end' });
      } else if (once) {
        for (const k of ['from', 'to'] as const) if (w[k] === undefined) out.push({ path: `windows[${i}].${k}`, message: 'required for a one-off window' });
        const f = typeof w.from === 'string' ? parseInstant(w.from) : undefined;
        const t = typeof w.to === 'string' ? parseInstant(w.to) : undefined;
        for (const [k, p] of [['from', f], ['to', t]] as const) {
          if (p?.local && typeof w.timezone !== 'string') out.push({ path: `windows[${i}].${k}`, message: 'has no offset: add Z or ±HH:MM, or give the window a timezone' });
        }
        if (f && t && !f.local && !t.local && t.ms <= f.ms) out.push({ path: `windows[${i}].to`, message: 'must be after from' });
      } else if (w.id !== undefined) {
        out.push({ path: `windows[${i}]`, message: 'give days, start, end and timezone (recurring) or from and to (one-off)' });
      }
    });
  }
  const checkRefs = (refs: unknown, path: string): void => {
    if (!Array.isArray(refs)) return;
    refs.forEach((r, j) => {
      if (typeof r === 'string' && !windowIds.has(r)) out.push({ path: `${path}[${j}]`, message: `unknown window ${quote(r)}` });
    });
  };
  const checkExcept = (v: unknown, path: string): void => {
    if (isObj(v) && Object.keys(v).length === 0) out.push({ path, message: 'empty: it would exempt every statement' });
  };
  for (const k of ['destructive', 'unknown'] as const) {
    const b = input[k];
    if (isObj(b)) {
      checkRefs(b.windows, `${k}.windows`);
      checkExcept(b.except, `${k}.except`);
    }
  }
  const ruleIds = new Set<string>(['destructive', 'unknown', 'bulk.per_statement', 'bulk.per_actor']);
  if (Array.isArray(input.rules)) {
    input.rules.forEach((r, i) => {
      if (!isObj(r)) return;
      if (typeof r.id === 'string') {
        if (ruleIds.has(r.id)) out.push({ path: `rules[${i}].id`, message: `duplicate rule id ${quote(r.id)}` });
        ruleIds.add(r.id);
      }
      checkRefs(r.windows, `rules[${i}].windows`);
      checkExcept(r.except, `rules[${i}].except`);
      if (r.action === 'alert' && (r.windows !== undefined || r.approvals === true)) {
        out.push({ path: `rules[${i}].action`, message: 'windows and approvals relax a block; an alert rule cannot use them' });
      }
    });
  }
  const sensIds = new Set<string>();
  if (Array.isArray(input.sensitive)) {
    input.sensitive.forEach((s, i) => {
      if (!isObj(s) || typeof s.id !== 'string') return;
      if (sensIds.has(s.id)) out.push({ path: `sensitive[${i}].id`, message: `duplicate id ${quote(s.id)}` });
      sensIds.add(s.id);
    });
  }
  const bulk = input.bulk;
  if (isObj(bulk)) {
    for (const k of ['perStatement', 'perActor'] as const) {
      const t = bulk[k];
      if (isObj(t) && typeof t.alert === 'number' && typeof t.block === 'number' && t.block < t.alert) {
        out.push({ path: `bulk.${k}.block`, message: 'is lower than alert' });
      }
      if (isObj(t) && t.alert === undefined && t.block === undefined) out.push({ path: `bulk.${k}`, message: 'give alert, block or both' });
    }
  }
  return out;
}
