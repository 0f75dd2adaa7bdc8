/**
 * definePolicy: validate (zod) → compile everything that depends only on the policy → a
 * CompiledPolicy whose decide() is pure, synchronous and cheap. Per analysed statement (analyses are
 * shared and frozen by the analysis cache) the statement-side facts — sensitive matches, which rules'
 * statement conditions hold — are computed once and kept in a WeakMap; a decision then only checks
 * the context (env, database, role, source, actor), the clock (windows) and the approval.
 */
import type { Analysis } from '../analysis/types.js';
import type { AuditContext } from '../context/types.js';
import { ConfigError, QueryBlockedError } from '../errors.js';
import type { DbInfo, PolicyInfo, SensitivityInfo } from '../event/types.js';
import { type AlertHook, type AlertHookRunner, type AlertHookRunnerOptions, type AlertInfo, type AlertSeverity, createAlertHookRunner } from './alerts.js';
import { type BulkBlock, BulkReadTracker } from './bulk.js';
import { globMatcher, type NamePattern, nameMatcher, parseNamePattern, type Segment, segmentMatches } from './patterns.js';
import { type ApprovalRecord, crossCheck, issuesOf, type ParsedPolicy, type PolicyInput, type PolicyIssue, policySchema, type ScopeInput } from './schema.js';
import { compileSensitivity, type SensitivityFacts } from './sensitivity.js';
import { iso, parseInstant } from './time.js';
import { type CompiledWindow, compileWindow, type WindowOccurrence } from './windows.js';

export type PolicyMode = 'enforce' | 'monitor';

/** Everything decide() needs, all already at hand in the auditor's begin(). */
export interface DecisionInput {
  analysis: Analysis;
  context: AuditContext | undefined;
  db: DbInfo;
  service: { env?: string | undefined };
  /** Epoch ms. */
  now: number;
  /** Number of bound parameters: with it, sensitiveParamIndexes is filled in. */
  paramCount?: number | undefined;
}

export interface Decision {
  /** allow: send. alert: send, and report `alerts`. block: throw blockedError(decision), send nothing. */
  action: 'allow' | 'alert' | 'block';
  /** The event's `policy` field. */
  decision: PolicyInfo;
  /** Monitor mode: the statement would have been blocked (decision.decision is 'block', mode 'monitor'). */
  wouldBlock?: true;
  /** The event's `sensitivity` field (frozen, shared by every decision on the same analysis). */
  sensitivity?: SensitivityInfo;
  /**
   * Parameters that must never be recorded raw: the statement touches sensitive columns, and which
   * parameter binds which column cannot be established from the analysis, so every parameter.
   */
  sensitiveParamIndexes?: number[];
  /** Break-glass was used: emit `policy.override` (and the override alert). */
  override?: { reason: string; rule_id: string };
  /** Alerts to emit as `policy.alert` events and to hand to the onAlert hooks. Empty most of the time. */
  alerts: AlertInfo[];
  /** `${actor.type}:${actor.id}`, the key of per-actor state (bulk reads). */
  actorKey?: string;
  /** The statement reads sensitive objects: count its rows with policy.bulk.statement(actorKey, objects). */
  bulk?: { objects: string[] };
}

export interface CompiledPolicy {
  readonly mode: PolicyMode;
  /** Pure, synchronous, never throws (an internal error fails closed when enforcing). */
  decide(input: DecisionInput): Decision;
  /** Per-actor sliding-window row counts of sensitive reads; blocks the actor's next statements. */
  readonly bulk: BulkReadTracker;
  /** Runs the policy's onAlert hooks off the query path. */
  readonly alerts: AlertHookRunner;
  readonly windows: ReadonlyMap<string, CompiledWindow>;
  /** The sensitive-column matches of an analysis (cached per analysis). */
  sensitivityOf(analysis: Analysis): SensitivityInfo | undefined;
  /** The validated input (defaults not applied). */
  readonly input: Readonly<ParsedPolicy>;
}

export interface DefinePolicyOptions {
  /** Clock of the bulk-read tracker (tests). Default Date.now. */
  clock?: () => number;
  /** Told when an onAlert hook throws, rejects or hangs. */
  onHookError?: AlertHookRunnerOptions['onHookError'];
  /** Prefix of every error path (loadPolicy passes the file name). */
  file?: string;
}

const brand = Symbol.for('querytrail.compiledPolicy');

/** Invalid policy: every bad field, one `path: message` per line. `path` is the first one. */
export class PolicyConfigError extends ConfigError {
  readonly issues: readonly PolicyIssue[];
  readonly file: string | undefined;
  constructor(issues: readonly PolicyIssue[], file?: string) {
    const first = issues[0] ?? { path: '(policy)', message: 'invalid' };
    super(first.path, first.message);
    this.name = 'PolicyConfigError';
    this.issues = issues;
    this.file = file;
    const prefix = file === undefined ? '' : `${file}: `;
    this.message = issues.map((i) => `${prefix}${i.path}: ${i.message}`).join('\n');
  }
}

/**
 * Dual control compares people, not strings: `Alice`, ` alice` and a compatibility form of `alice`
 * are the actor `alice` approving herself, so they are refused (fail closed).
 */
function samePerson(a: string, b: string): boolean {
  const norm = (s: string) => s.normalize('NFKC').trim().toLowerCase();
  return norm(a) === norm(b);
}

export function isCompiledPolicy(x: unknown): x is CompiledPolicy {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
}

/** The error to throw for a 'block' decision (code QT_ERR_POLICY_BLOCKED, with rule id and reason). */
export function blockedError(d: Decision): QueryBlockedError {
  return new QueryBlockedError(d.decision.reason ?? 'blocked by policy', d.decision.rule_id === undefined ? {} : { ruleId: d.decision.rule_id });
}

// ---- compilation -------------------------------------------------------------------------------

interface CtxFacts {
  env: string | undefined;
  database: string | undefined;
  roles: readonly string[];
  source: string;
  actorId: string | undefined;
}
type CtxPred = (c: CtxFacts) => boolean;
type StmtPred = (a: Analysis, s: SensitivityFacts) => boolean;

interface CompiledRule {
  readonly id: string;
  readonly origin: 'rule' | 'destructive' | 'unknown';
  readonly action: 'alert' | 'block';
  readonly mode: PolicyMode;
  readonly severity: AlertSeverity;
  readonly sensitive: boolean;
  readonly reason: (a: Analysis) => string;
  readonly stmt: StmtPred;
  readonly ctx: CtxPred | undefined;
  readonly hasExcept: boolean;
  readonly exceptStmt: ((a: Analysis) => boolean) | undefined;
  readonly exceptCtx: CtxPred | undefined;
  readonly windows: readonly CompiledWindow[];
  readonly windowIds: string;
  readonly approvals: boolean;
  readonly breakGlass: boolean;
}

interface Facts {
  readonly sens: SensitivityFacts;
  readonly stmt: Uint8Array;
  readonly except: Uint8Array;
  readonly bulkObjects: string[] | undefined;
}

const list = <T>(v: T | readonly T[] | undefined): readonly T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v as T]);

function ctxPredicate(scope: ScopeInput | undefined): CtxPred | undefined {
  if (!scope) return undefined;
  const preds: CtxPred[] = [];
  const env = list(scope.env);
  if (env) {
    const s = new Set(env);
    preds.push((c) => c.env !== undefined && s.has(c.env));
  }
  const db = list(scope.database);
  if (db) {
    const m = nameMatcher(db);
    preds.push((c) => m(c.database));
  }
  const role = list(scope.role);
  if (role) {
    const s = new Set(role);
    preds.push((c) => c.roles.some((r) => s.has(r)));
  }
  const source = list(scope.source);
  if (source) {
    const s = new Set<string>(source);
    preds.push((c) => s.has(c.source));
  }
  const actor = list(scope.actor);
  if (actor) {
    const m = globMatcher(actor);
    preds.push((c) => m(c.actorId));
  }
  if (preds.length === 0) return undefined;
  if (preds.length === 1) return preds[0];
  return (c) => preds.every((p) => p(c));
}

interface ObjectPats {
  schemas: readonly Segment[] | undefined;
  tables: readonly NamePattern[] | undefined;
}

function objectPats(scope: ScopeInput | undefined): ObjectPats | undefined {
  if (!scope) return undefined;
  const schemas = list(scope.schema)?.map((s) => (parseNamePattern(s, 1) as NamePattern).name);
  const tables = list(scope.table)?.map((t) => parseNamePattern(t, 2) as NamePattern);
  return schemas || tables ? { schemas, tables } : undefined;
}

/** Scope: the statement touches at least one matching object (an object of unknown schema may be in any). */
function scopeStmt(p: ObjectPats | undefined): ((a: Analysis) => boolean) | undefined {
  if (!p) return undefined;
  const { schemas, tables } = p;
  return (a) =>
    (!schemas || a.objects.some((o) => o.schema === undefined || schemas.some((s) => segmentMatches(s, o.schema!)))) &&
    (!tables || a.objects.some((o) => tables.some((t) => (o.schema === undefined || segmentMatches(t.schema, o.schema)) && segmentMatches(t.name, o.name))));
}

/** Except: every object the statement touches matches (an object of unknown schema is not exempt). */
function exceptStmt(p: ObjectPats | undefined): ((a: Analysis) => boolean) | undefined {
  if (!p) return undefined;
  const { schemas, tables } = p;
  return (a) =>
    a.objects.length > 0 &&
    a.objects.every(
      (o) =>
        (!schemas || (o.schema !== undefined && schemas.some((s) => segmentMatches(s, o.schema!)))) &&
        (!tables || tables.some((t) => (t.schema.kind === 'any' || (o.schema !== undefined && segmentMatches(t.schema, o.schema))) && segmentMatches(t.name, o.name))),
    );
}

function commandMatcher(cmds: readonly string[]): (a: Analysis) => boolean {
  const res = cmds.map((c) => new RegExp(`^${c.trim().split('*').map((x) => x.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*').replace(/\s+/g, '\\s+')}$`, 'i'));
  return (a) => a.commands.some((c) => res.some((r) => r.test(c)));
}

function describeAnalysis(a: Analysis): string {
  if (a.reasons.length > 0) return a.reasons.join('; ');
  return a.commands.length > 0 ? a.commands.join('; ') : 'unknown';
}

interface RuleSpec {
  id: string;
  origin: CompiledRule['origin'];
  action: 'alert' | 'block';
  mode: PolicyMode | undefined;
  severity: AlertSeverity | undefined;
  match: NonNullable<ParsedPolicy['rules']>[number]['match'];
  scope: ScopeInput | undefined;
  except: ScopeInput | undefined;
  windows: '*' | readonly string[] | undefined;
  approvals: boolean;
  breakGlass: boolean;
  reason: ((a: Analysis, windowIds: string) => string) | undefined;
}

export function definePolicy(input: PolicyInput | CompiledPolicy, options: DefinePolicyOptions = {}): CompiledPolicy {
  if (isCompiledPolicy(input)) return input;
  const parsed = policySchema.safeParse(input);
  const issues: PolicyIssue[] = parsed.success ? [] : issuesOf(parsed.error, input);
  for (const i of crossCheck(input)) if (!issues.some((j) => j.path === i.path && j.message === i.message)) issues.push(i);
  if (!parsed.success || issues.length > 0) throw new PolicyConfigError(issues, options.file);
  const compiled = compile(parsed.data, issues, options);
  if (issues.length > 0) throw new PolicyConfigError(issues, options.file);
  return compiled;
}

function compile(p: ParsedPolicy, issues: PolicyIssue[], options: DefinePolicyOptions): CompiledPolicy {
  const mode: PolicyMode = p.mode ?? 'enforce';
  const sensitivity = compileSensitivity(p, issues);

  const windows = new Map<string, CompiledWindow>();
  (p.windows ?? []).forEach((w, i) => {
    const cw = compileWindow(w);
    windows.set(w.id, cw);
    if (w.from !== undefined) {
      const o = cw.occurrence(0);
      if (Date.parse(o.end) <= Date.parse(o.start)) issues.push({ path: `windows[${i}].to`, message: 'must be after from' });
    }
  });
  const windowList = (refs: '*' | readonly string[] | undefined, dflt: '*' | 'none'): CompiledWindow[] => {
    const r = refs ?? (dflt === '*' ? '*' : []);
    return r === '*' ? [...windows.values()] : r.map((id) => windows.get(id)!).filter(Boolean);
  };

  const bgCfg = p.breakGlass ?? {};
  const breakGlassOn = bgCfg.allowed ?? true;

  const specs: RuleSpec[] = [];
  for (const r of p.rules ?? []) {
    specs.push({
      id: r.id,
      origin: 'rule',
      action: r.action,
      mode: r.mode,
      severity: r.severity,
      match: r.match,
      scope: r.scope,
      except: r.except,
      windows: r.windows,
      approvals: r.approvals ?? false,
      breakGlass: r.breakGlass ?? true,
      reason: r.reason !== undefined ? () => r.reason! : (a) => `rule ${r.id}${r.description ? ` (${r.description})` : ''}: ${describeAnalysis(a)}`,
    });
  }
  const u = p.unknown ?? {};
  specs.push({
    id: 'unknown',
    origin: 'unknown',
    action: u.action ?? 'block',
    mode: u.mode,
    severity: u.severity,
    match: { unknown: true },
    scope: u.scope,
    except: u.except,
    windows: u.windows,
    approvals: u.approvals ?? false,
    breakGlass: u.breakGlass ?? true,
    reason: (a) => `statement could not be analysed (${a.error ?? a.reasons.join('; ') ?? 'unknown'}): unknown statements are not allowed`,
  });
  const d = p.destructive ?? {};
  specs.push({
    id: 'destructive',
    origin: 'destructive',
    action: d.action ?? 'block',
    mode: d.mode,
    severity: d.severity,
    match: { destructive: true },
    scope: d.scope,
    except: d.except,
    windows: d.windows ?? '*',
    approvals: d.approvals ?? true,
    breakGlass: d.breakGlass ?? true,
    reason: (a, w) => `destructive statement (${describeAnalysis(a)})${w ? ` outside change windows (${w})` : ''}`,
  });

  const rules: CompiledRule[] = specs.map((s) => {
    const m = s.match ?? {};
    const preds: StmtPred[] = [];
    if (m.destructive !== undefined) preds.push((a) => a.destructive === m.destructive);
    if (m.unknown !== undefined) preds.push((a) => (a.kind === 'unknown') === m.unknown);
    const kinds = list(m.kinds);
    if (kinds) {
      const ks = new Set<string>(kinds);
      preds.push((a) => ks.has(a.kind) || a.statements.some((st) => ks.has(st.kind)));
    }
    const cmds = list(m.commands);
    if (cmds) preds.push(commandMatcher(cmds));
    const sens = m.sensitive;
    if (sens === true) preds.push((_a, f) => f.info !== undefined);
    else if (sens === false) preds.push((_a, f) => f.info === undefined);
    else if (sens !== undefined) {
      const cats = list(sens)!;
      preds.push((_a, f) => cats.some((c) => f.categories.has(c)));
    }
    const scope = scopeStmt(objectPats(s.scope));
    if (scope) preds.push((a) => scope(a));
    const ws = windowList(s.windows, 'none');
    const hasExcept = s.except !== undefined;
    return {
      id: s.id,
      origin: s.origin,
      action: s.action,
      mode: s.mode ?? mode,
      severity: s.severity ?? (s.action === 'block' ? 'high' : 'medium'),
      sensitive: sens !== undefined && sens !== false,
      reason: (a: Analysis) => s.reason!(a, ws.map((w) => w.id).join(', ')),
      stmt: preds.length === 0 ? () => true : preds.length === 1 ? preds[0]! : (a, f) => preds.every((pr) => pr(a, f)),
      ctx: ctxPredicate(s.scope),
      hasExcept,
      exceptStmt: exceptStmt(objectPats(s.except)),
      exceptCtx: ctxPredicate(s.except),
      windows: ws,
      windowIds: ws.map((w) => w.id).join(', '),
      approvals: s.approvals,
      breakGlass: s.breakGlass && breakGlassOn,
    };
  });

  // bulk
  const b = p.bulk;
  const bulkMode: PolicyMode = b?.mode ?? mode;
  const tracker = new BulkReadTracker(
    {
      perStatement: b?.perStatement,
      perActor: b?.perActor,
      blockSeconds: b?.blockSeconds ?? b?.perActor?.windowSeconds ?? 900,
      mode: bulkMode,
      maxActors: b?.maxActors ?? 10_000,
    },
    options.clock,
  );
  const bulkCats = b?.categories ? new Set(b.categories) : undefined;
  const bulkAll = (b?.blockScope ?? 'all') === 'all';
  const bulkBreakGlass = (b?.breakGlass ?? true) && breakGlassOn;

  // approvals
  const ap = p.approvals ?? {};
  const dualControl = ap.dualControl ?? true;
  const approvers = ap.approvers ? new Set(ap.approvers) : undefined;
  const tickets = new Map<string, ApprovalRecord>((ap.tickets ?? []).map((t) => [t.ticket, t as ApprovalRecord]));
  const resolve = ap.resolve;
  const registry = tickets.size > 0 || resolve !== undefined;
  const bgRoles = bgCfg.roles ? new Set(bgCfg.roles) : undefined;
  const bgActors = bgCfg.actors ? globMatcher(bgCfg.actors) : undefined;

  const hooks = list(p.onAlert) ?? [];
  const alerts = createAlertHookRunner(hooks as readonly AlertHook[], {
    ...(p.alertTimeoutMs === undefined ? {} : { timeoutMs: p.alertTimeoutMs }),
    ...(options.onHookError ? { onHookError: options.onHookError } : {}),
  });

  const factsCache = new WeakMap<Analysis, Facts>();
  const factsOf = (a: Analysis): Facts => {
    let f = factsCache.get(a);
    if (f) return f;
    const sens = sensitivity.facts(a);
    const stmt = new Uint8Array(rules.length);
    const except = new Uint8Array(rules.length);
    rules.forEach((r, i) => {
      stmt[i] = r.stmt(a, sens) ? 1 : 0;
      except[i] = r.hasExcept ? (r.exceptStmt ? (r.exceptStmt(a) ? 1 : 0) : 1) : 0;
    });
    let bulkObjects: string[] | undefined;
    if (tracker.enabled && sens.readObjects.size > 0) {
      const objs = new Set<string>();
      for (const [cat, set] of sens.readObjects) if (!bulkCats || bulkCats.has(cat)) for (const o of set) objs.add(o);
      if (objs.size > 0) bulkObjects = Object.freeze([...objs].sort()) as string[];
    }
    f = { sens, stmt, except, bulkObjects };
    factsCache.set(a, f);
    return f;
  };

  type ApprovalResult = { ok: true; info: NonNullable<PolicyInfo['approval']> } | { ok: false; why: string | undefined };
  const checkApproval = (ctx: AuditContext | undefined, now: number): ApprovalResult => {
    const a = ctx?.approval;
    if (!a) return { ok: false, why: undefined };
    const ticket = a.ticket;
    if (typeof ticket !== 'string' || ticket.length === 0) return { ok: false, why: 'approval without a ticket' };
    let rec: { actor?: unknown; approver?: unknown; expires?: unknown } | undefined;
    if (registry) {
      rec = tickets.get(ticket);
      if (!rec && resolve) {
        try {
          rec = resolve(ticket);
        } catch {
          rec = undefined;
        }
      }
      if (!rec) return { ok: false, why: `approval ${ticket}: unknown ticket` };
    } else {
      rec = { actor: (a as { actor?: unknown }).actor, approver: a.approver, expires: a.expires };
    }
    let expires: number | undefined;
    if (rec.expires instanceof Date) expires = rec.expires.getTime();
    else if (typeof rec.expires === 'string') {
      const pi = parseInstant(rec.expires);
      expires = pi && !pi.local ? pi.ms : undefined;
      if (expires === undefined) return { ok: false, why: `approval ${ticket}: invalid expiry ${JSON.stringify(rec.expires)} (ISO 8601 with Z or an offset)` };
    }
    if (expires === undefined || Number.isNaN(expires)) return { ok: false, why: `approval ${ticket} has no expiry` };
    if (now >= expires) return { ok: false, why: `approval ${ticket} expired at ${iso(expires)}` };
    const actor = ctx?.actor;
    if (typeof rec.actor !== 'string' || rec.actor.length === 0) return { ok: false, why: `approval ${ticket} names no actor` };
    if (!actor) return { ok: false, why: `approval ${ticket} is for ${rec.actor}; the statement has no actor` };
    if (actor.id !== rec.actor) return { ok: false, why: `approval ${ticket} is for ${rec.actor}, not ${actor.id}` };
    const approver = typeof rec.approver === 'string' && rec.approver.length > 0 ? rec.approver : undefined;
    if (dualControl) {
      if (approver === undefined) return { ok: false, why: `approval ${ticket} has no approver (dual control)` };
      if (samePerson(approver, actor.id) || (actor.impersonator !== undefined && samePerson(approver, actor.impersonator.id))) {
        return { ok: false, why: `approval ${ticket} is approved by its own actor (dual control)` };
      }
    }
    if (approvers && (approver === undefined || !approvers.has(approver))) return { ok: false, why: `approval ${ticket}: ${approver ?? 'no approver'} may not approve` };
    return { ok: true, info: { ticket, ...(approver === undefined ? {} : { approver }), expires: iso(expires) } };
  };

  type BreakGlassResult = { ok: true; reason: string } | { ok: false; why: string | undefined };
  const checkBreakGlass = (ctx: AuditContext | undefined): BreakGlassResult => {
    const bg = ctx?.breakGlass;
    if (!bg) return { ok: false, why: undefined };
    if (typeof bg.reason !== 'string' || bg.reason.trim() === '') return { ok: false, why: 'break-glass refused: no reason given' };
    const actor = ctx?.actor;
    if (!actor) return { ok: false, why: 'break-glass refused: no actor' };
    if (bgRoles && !(actor.roles ?? []).some((r) => bgRoles.has(r))) return { ok: false, why: `break-glass refused: ${actor.id} has none of the roles allowed to break glass` };
    if (bgActors && !bgActors(actor.id)) return { ok: false, why: `break-glass refused: ${actor.id} may not break glass` };
    return { ok: true, reason: bg.reason };
  };

  const paramIndexCache: number[][] = [];
  const allParams = (n: number): number[] => {
    if (n > 256) return Array.from({ length: n }, (_, i) => i);
    let a = paramIndexCache[n];
    if (!a) paramIndexCache[n] = a = Object.freeze(Array.from({ length: n }, (_, i) => i)) as number[];
    return a;
  };

  const ALLOW_INFO: PolicyInfo = Object.freeze({ decision: 'allow' as const, mode });
  const NO_ALERTS: AlertInfo[] = Object.freeze([]) as unknown as AlertInfo[];

  /** Per-decision state: one plain object, no closures created per decision (they cost on the hot path). */
  interface State {
    input: DecisionInput;
    actorKey: string | undefined;
    cf: CtxFacts | undefined;
    block: { id: string; reason: string } | undefined;
    would: { id: string; reason: string } | undefined;
    override: { id: string; reason: string } | undefined;
    relaxed: { id: string; reason: string; window?: WindowOccurrence; approval?: NonNullable<PolicyInfo['approval']> } | undefined;
    alertRule: { id: string; reason: string; mode: PolicyMode } | undefined;
    alerts: AlertInfo[] | undefined;
    approval: ApprovalResult | undefined;
    breakGlass: BreakGlassResult | undefined;
  }

  function cfacts(st: State): CtxFacts {
    if (st.cf) return st.cf;
    const { input } = st;
    const ctx = input.context;
    const actor = ctx?.actor;
    st.cf = { env: input.service.env, database: input.db.namespace, roles: actor?.roles ?? [], source: ctx?.source ?? 'app', actorId: actor?.id };
    return st.cf;
  }

  function push(st: State, al: AlertInfo): void {
    if (st.actorKey !== undefined) al.actor_key = st.actorKey;
    if (st.alerts) st.alerts.push(al);
    else st.alerts = [al];
  }

  /** A blocking condition: windows, approval, monitor, break-glass, in that order. */
  function blocking(st: State, id: string, ruleMode: PolicyMode, severity: AlertSeverity, rule: CompiledRule | undefined, fixedReason: string, wins: readonly CompiledWindow[], approvals: boolean, bg: boolean): void {
    const now = st.input.now;
    for (const w of wins) {
      if (w.contains(now)) {
        st.relaxed ??= { id, reason: `inside change window ${w.id}`, window: w.occurrence(now) };
        return;
      }
    }
    let why = '';
    if (approvals) {
      st.approval ??= checkApproval(st.input.context, now);
      if (st.approval.ok) {
        st.relaxed ??= { id, reason: `approved by ticket ${st.approval.info.ticket}`, approval: st.approval.info };
        return;
      }
      if (st.approval.why) why = `; ${st.approval.why}`;
    }
    if (ruleMode === 'monitor') {
      const reason = (rule ? rule.reason(st.input.analysis) : fixedReason) + why;
      st.would ??= { id, reason };
      push(st, { kind: 'would_block', rule_id: id, reason, severity, mode: 'monitor' });
      return;
    }
    if (bg) {
      st.breakGlass ??= checkBreakGlass(st.input.context);
      if (st.breakGlass.ok) {
        st.override ??= { id, reason: st.breakGlass.reason };
        return;
      }
      if (st.breakGlass.why) why += `; ${st.breakGlass.why}`;
    }
    if (!st.block) st.block = { id, reason: (rule ? rule.reason(st.input.analysis) : fixedReason) + why };
  }

  function decideUnsafe(input: DecisionInput): Decision {
    const a = input.analysis;
    const now = input.now;
    const facts = factsOf(a);
    const actor = input.context?.actor;
    const st: State = {
      input,
      actorKey: actor ? `${actor.type}:${actor.id}` : undefined,
      cf: undefined,
      block: undefined,
      would: undefined,
      override: undefined,
      relaxed: undefined,
      alertRule: undefined,
      alerts: undefined,
      approval: undefined,
      breakGlass: undefined,
    };

    const stmt = facts.stmt;
    for (let i = 0; i < rules.length; i++) {
      if (stmt[i] === 0) continue;
      const r = rules[i]!;
      if (r.ctx && !r.ctx(cfacts(st))) continue;
      if (facts.except[i] === 1 && (!r.exceptCtx || r.exceptCtx(cfacts(st)))) continue;
      if (r.action === 'alert') {
        const reason = r.reason(a);
        st.alertRule ??= { id: r.id, reason, mode: r.mode };
        push(st, { kind: r.sensitive ? 'sensitive_read' : 'rule', rule_id: r.id, reason, severity: r.severity, mode: r.mode });
        continue;
      }
      blocking(st, r.id, r.mode, r.severity, r, '', r.windows, r.approvals, r.breakGlass);
    }

    if (st.actorKey !== undefined && tracker.enabled) {
      const bb: BulkBlock | undefined = tracker.blockedFor(st.actorKey, now);
      if (bb && (bulkAll || facts.sens.info !== undefined)) {
        blocking(st, bb.rule_id, bb.mode, 'high', undefined, `${bb.reason}; blocked until ${iso(bb.until)}`, [], false, bulkBreakGlass);
      }
    }

    let action: Decision['action'];
    let info: PolicyInfo;
    let wouldBlock = false;
    const { block, override, would, alertRule, relaxed } = st;
    if (block) {
      action = 'block';
      info = { decision: 'block', mode: 'enforce', rule_id: block.id, reason: block.reason };
      push(st, { kind: 'block', rule_id: block.id, reason: block.reason, severity: 'high', mode: 'enforce' });
    } else if (override) {
      action = 'alert';
      info = { decision: 'allow_override', mode: 'enforce', rule_id: override.id, reason: `break-glass: ${override.reason}` };
      push(st, { kind: 'override', rule_id: override.id, reason: `break-glass: ${override.reason}`, severity: 'critical', mode: 'enforce' });
    } else if (would) {
      action = 'alert';
      wouldBlock = true;
      info = { decision: 'block', mode: 'monitor', rule_id: would.id, reason: would.reason };
    } else if (alertRule) {
      action = 'alert';
      info = { decision: 'alert', mode: alertRule.mode, rule_id: alertRule.id, reason: alertRule.reason };
    } else if (relaxed) {
      action = 'allow';
      info = { decision: 'allow', mode, rule_id: relaxed.id, reason: relaxed.reason };
    } else {
      action = 'allow';
      info = ALLOW_INFO;
    }
    if (relaxed && action !== 'block') {
      if (info === ALLOW_INFO) info = { ...info };
      if (relaxed.window) info.window = { ...relaxed.window };
      if (relaxed.approval) info.approval = relaxed.approval;
    }

    const out: Decision = { action, decision: info, alerts: st.alerts ?? NO_ALERTS };
    if (wouldBlock) out.wouldBlock = true;
    const sinfo = facts.sens.info;
    if (sinfo) {
      out.sensitivity = sinfo;
      const n = input.paramCount ?? 0;
      if (n > 0) out.sensitiveParamIndexes = allParams(n);
    }
    if (override) out.override = { reason: override.reason, rule_id: override.id };
    if (st.actorKey !== undefined) out.actorKey = st.actorKey;
    if (facts.bulkObjects && action !== 'block') out.bulk = { objects: facts.bulkObjects };
    return out;
  }

  const compiled: CompiledPolicy = {
    mode,
    decide(input: DecisionInput): Decision {
      try {
        return decideUnsafe(input);
      } catch (err) {
        // Never throws: an internal error fails closed when enforcing, and is loud when monitoring.
        const reason = `policy error: ${err instanceof Error ? err.message : String(err)}`;
        const enforce = mode === 'enforce';
        return {
          action: enforce ? 'block' : 'alert',
          decision: { decision: 'block', mode, rule_id: 'policy.error', reason },
          ...(enforce ? {} : { wouldBlock: true as const }),
          alerts: [{ kind: enforce ? 'block' : 'would_block', rule_id: 'policy.error', reason, severity: 'high', mode }],
        };
      }
    },
    bulk: tracker,
    alerts,
    windows,
    sensitivityOf: (a) => factsOf(a).sens.info,
    input: p,
  };
  Object.defineProperty(compiled, brand, { value: true });
  return Object.freeze(compiled);
}
