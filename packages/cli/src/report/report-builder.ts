import type { QuerytrailEvent } from '@querytrail/core';
import { CALLER_PREFIX, creditedActors, keyId, primaryActor } from './actor-keys.js';
import type { ActorSummary, IntegritySummary, ItemList, Report, ReportItem, SensitiveColumn } from './report.js';
import { REPORT_SCHEMA } from './report.js';

/** The record a pool writes when an application wrapper sent other text: the statement has its own. */
const NOT_SENT_AS_RECORDED = 'QT_ERR_NOT_SENT_AS_RECORDED';

function summaryOf(e: QuerytrailEvent): string {
  if (e.gap) {
    const statement = e.statement ? `; statement: ${e.statement.text ?? e.statement.summary ?? e.statement.command ?? ''}` : '';
    return `${e.gap.count} record(s) lost: ${e.gap.cause}${statement}`;
  }
  if (e.genesis) return `chain ${e.integrity?.chain_id ?? '?'}: ${e.genesis.reason}`;
  if (e.alert) return `${e.alert.kind} (${e.alert.severity}): ${e.alert.reason}`;
  const text = e.statement?.summary ?? e.statement?.text ?? e.statement?.command ?? e.type;
  return String(text).replace(/\s+/g, ' ').trim();
}

function itemOf(e: QuerytrailEvent, outcome?: string): ReportItem {
  const item: ReportItem = { time: e.time, event_id: e.event_id, type: e.type, actor: primaryActor(e), summary: summaryOf(e) };
  const result = outcome ?? e.result?.outcome;
  if (result) item.outcome = result;
  const rule = e.policy?.rule_id ?? e.alert?.rule_id;
  if (rule) item.rule_id = rule;
  if (e.policy?.reason) item.reason = e.policy.reason;
  if (e.request?.id) item.request_id = e.request.id;
  if (e.result?.error) item.error = `${e.result.error.code ? `${e.result.error.code} ` : ''}${e.result.error.message}`;
  if (e.policy?.window) item.window = e.policy.window.id;
  if (e.policy?.approval) item.approval = `${e.policy.approval.ticket}${e.policy.approval.approver ? ` by ${e.policy.approval.approver}` : ''}`;
  return item;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

/** The `top` oldest events of a list (by time: attempts left open are added at the end, yet may be the oldest). */
class Items {
  total = 0;
  readonly items: ReportItem[] = [];
  constructor(private readonly top: number) {}
  add(e: QuerytrailEvent, outcome?: string): void {
    this.total += 1;
    if (this.top === 0) return;
    if (this.items.length === this.top && e.time >= this.items[this.items.length - 1]!.time) return;
    const item = itemOf(e, outcome);
    let at = this.items.length;
    while (at > 0 && this.items[at - 1]!.time > item.time) at -= 1;
    this.items.splice(at, 0, item);
    if (this.items.length > this.top) this.items.pop();
  }
  list(): ItemList {
    return { total: this.total, items: this.items };
  }
}

type ActorState = Omit<ActorSummary, 'tables'> & { tableCounts: Map<string, number> };

function newActor(key: string, time: string): ActorState {
  return {
    actor: key,
    statements: 0,
    by_class: {},
    destructive: 0,
    blocked: 0,
    failed: 0,
    unfinished: 0,
    sensitive_reads: 0,
    sensitive_rows: 0,
    sensitive_writes: 0,
    overrides: 0,
    first: time,
    last: time,
    tableCounts: new Map(),
  };
}

/** Adds b's counts into a (same actor, known under two keys). */
function mergeActor(a: ActorState, b: ActorState): void {
  for (const k of ['statements', 'destructive', 'blocked', 'failed', 'unfinished', 'sensitive_reads', 'sensitive_rows', 'sensitive_writes', 'overrides'] as const) a[k] += b[k];
  for (const [c, n] of Object.entries(b.by_class)) bump(a.by_class, c, n);
  for (const [t, n] of b.tableCounts) a.tableCounts.set(t, (a.tableCounts.get(t) ?? 0) + n);
  if (b.first < a.first) a.first = b.first;
  if (b.last > a.last) a.last = b.last;
  if (!a.name && b.name) a.name = b.name;
}

/**
 * How a statement touched a sensitive column: written when an object it writes lists that column
 * (`UPDATE t SET ssn = …`, `INSERT`), else read (a column in WHERE or the select list, or a `SELECT *`
 * the analysis could not expand). The object must be the matched one: same name, and same schema when both have one.
 */
function accessOf(e: QuerytrailEvent, object: string, column: string): 'read' | 'write' {
  const lower = object.toLowerCase();
  const dot = lower.lastIndexOf('.');
  const name = lower.slice(dot + 1);
  const schema = dot < 0 ? undefined : lower.slice(0, dot);
  const col = column.toLowerCase();
  for (const o of e.objects ?? []) {
    if (o.access === 'read' || o.name.toLowerCase() !== name) continue;
    if (schema !== undefined && o.schema !== undefined && o.schema.toLowerCase() !== schema) continue;
    if ((o.columns ?? []).some((c) => c.toLowerCase() === col)) return 'write';
  }
  return 'read';
}

/**
 * Folds events, in journal order, into a Report. Memory grows with actors, columns and attempts still
 * open (in a healthy journal: the statements in flight), not with events.
 */
export class ReportBuilder {
  private first: string | undefined;
  private last: string | undefined;
  private eventsTotal = 0;
  private readonly byType: Record<string, number> = {};
  private readonly statements = { total: 0, by_class: {} as Record<string, number>, by_outcome: {} as Record<string, number>, destructive: 0, without_actor: 0, not_sent_as_recorded: 0 };
  private readonly openAttempts = new Map<string, QuerytrailEvent>();
  private readonly actors = new Map<string, ActorState>();
  private readonly sensitive = new Map<string, SensitiveColumn & { actorSet: Set<string> }>();
  private readonly lists: Record<'unfinished' | 'blocked' | 'wouldBlock' | 'overrides' | 'destructive' | 'failures' | 'alerts' | 'gaps' | 'chainStarts', Items>;
  private readonly alertKinds: Record<string, number> = {};
  private recordsLost = 0;

  constructor(top: number) {
    const l = () => new Items(top);
    this.lists = { unfinished: l(), blocked: l(), wouldBlock: l(), overrides: l(), destructive: l(), failures: l(), alerts: l(), gaps: l(), chainStarts: l() };
  }

  /** A selected event. */
  add(e: QuerytrailEvent): void {
    this.eventsTotal += 1;
    bump(this.byType, e.type);
    if (this.first === undefined || e.time < this.first) this.first = e.time;
    if (this.last === undefined || e.time > this.last) this.last = e.time;
    switch (e.type) {
      case 'db.query.attempt':
        this.openAttempts.set(e.event_id, e);
        return;
      case 'db.query':
      case 'db.query.blocked':
        if (e.attempt_id) this.openAttempts.delete(e.attempt_id);
        if (e.result?.error?.code === NOT_SENT_AS_RECORDED) {
          this.statements.not_sent_as_recorded += 1;
          return;
        }
        this.statement(e, e.result?.outcome ?? (e.type === 'db.query.blocked' ? 'blocked' : 'unknown'));
        return;
      case 'policy.override':
        this.lists.overrides.add(e);
        for (const key of creditedActors(e)) this.actor(key, e).overrides += 1;
        return;
      case 'policy.alert':
        this.lists.alerts.add(e);
        bump(this.alertKinds, e.alert?.kind ?? 'unknown');
        return;
      default:
        return;
    }
  }

  /** A db.query that completes an attempt, selected or not (it may fall after --until, or name another actor's attempt). */
  completes(attemptId: string): void {
    this.openAttempts.delete(attemptId);
  }

  /** sink.gap and chain.genesis: counted over the whole input in the period, whatever the selection. */
  evidence(e: QuerytrailEvent): void {
    if (e.type === 'sink.gap') {
      this.lists.gaps.add(e);
      this.recordsLost += e.gap?.count ?? 0;
    } else if (e.type === 'chain.genesis') {
      this.lists.chainStarts.add(e);
    }
  }

  private actor(key: string, e: QuerytrailEvent): ActorState {
    let a = this.actors.get(key);
    if (!a) {
      a = newActor(key, e.time);
      if (e.actor?.name && !key.startsWith(CALLER_PREFIX)) a.name = e.actor.name;
      this.actors.set(key, a);
    }
    if (e.time < a.first) a.first = e.time;
    if (e.time > a.last) a.last = e.time;
    return a;
  }

  private statement(e: QuerytrailEvent, outcome: string): void {
    const s = this.statements;
    const cls = e.statement?.class ?? 'unknown';
    s.total += 1;
    bump(s.by_class, cls);
    bump(s.by_outcome, outcome);
    if (!e.actor) s.without_actor += 1;
    const actors = creditedActors(e).map((key) => this.actor(key, e));
    const destructive = e.statement?.destructive === true;
    for (const a of actors) {
      a.statements += 1;
      bump(a.by_class, cls);
      for (const o of e.objects ?? []) {
        const name = o.schema ? `${o.schema}.${o.name}` : o.name;
        a.tableCounts.set(name, (a.tableCounts.get(name) ?? 0) + 1);
      }
      if (outcome === 'blocked') a.blocked += 1;
      else if (outcome === 'failure') a.failed += 1;
      else if (outcome === 'unknown') a.unfinished += 1;
      if (destructive && outcome !== 'blocked') a.destructive += 1;
    }
    if (outcome === 'blocked') this.lists.blocked.add(e);
    else {
      if (destructive) {
        s.destructive += 1;
        this.lists.destructive.add(e, outcome);
      }
      if (e.policy?.decision === 'block' && e.policy.mode === 'monitor') this.lists.wouldBlock.add(e, outcome);
      if (outcome === 'failure') this.lists.failures.add(e);
      if (outcome === 'unknown') this.lists.unfinished.add(e, 'unknown');
    }
    if (outcome !== 'blocked') this.sensitiveColumns(e, outcome, actors);
  }

  private sensitiveColumns(e: QuerytrailEvent, outcome: string, actors: ActorState[]): void {
    const matched = e.sensitivity?.matched ?? [];
    if (matched.length === 0) return;
    const rows = e.result?.rows_returned ?? 0;
    let read = false;
    let wrote = false;
    const seen = new Set<string>();
    for (const m of matched) {
      const column = `${m.object}.${m.column}`;
      if (seen.has(column)) continue;
      seen.add(column);
      const access = accessOf(e, m.object, m.column);
      if (outcome !== 'unknown' && access === 'read' && outcome !== 'success') continue; // a failed read read nothing
      let c = this.sensitive.get(column);
      if (!c) {
        c = { column, category: m.category ?? 'unknown', rule_id: m.rule_id ?? '', reads: 0, rows_returned: 0, writes: 0, unfinished: 0, actors: [], actorSet: new Set() };
        this.sensitive.set(column, c);
      }
      if (outcome === 'unknown') c.unfinished += 1;
      else if (access === 'write') {
        c.writes += 1;
        wrote = true;
      } else {
        c.reads += 1;
        c.rows_returned += rows;
        read = true;
      }
      for (const a of actors) c.actorSet.add(a.actor);
    }
    for (const a of actors) {
      if (read) {
        a.sensitive_reads += 1;
        a.sensitive_rows += rows;
      }
      if (wrote) a.sensitive_writes += 1;
    }
  }

  /**
   * Caller-only actors (`caller\0id`) take the one key their id has elsewhere in the report (exactly
   * that id, not impersonated), or `unknown:id` when there is none or more than one: never a guess.
   */
  private callerKeys(): Map<string, string> {
    const byId = new Map<string, string[]>();
    for (const a of this.actors.values()) {
      if (a.actor.startsWith(CALLER_PREFIX) || a.actor.includes(' via ') || a.actor === '(none)') continue;
      const id = a.actor.slice(a.actor.indexOf(':') + 1);
      byId.set(id, [...(byId.get(id) ?? []), a.actor]);
    }
    const out = new Map<string, string>();
    for (const key of this.actors.keys()) {
      if (!key.startsWith(CALLER_PREFIX)) continue;
      const id = keyId(key.slice(CALLER_PREFIX.length));
      const same = byId.get(id);
      out.set(key, same?.length === 1 ? same[0]! : `unknown:${id}`);
    }
    return out;
  }

  private resolvedActors(callers: Map<string, string>): ActorState[] {
    const out = new Map<string, ActorState>();
    for (const a of this.actors.values()) if (!a.actor.startsWith(CALLER_PREFIX)) out.set(a.actor, a);
    for (const a of this.actors.values()) {
      if (!a.actor.startsWith(CALLER_PREFIX)) continue;
      const key = callers.get(a.actor)!;
      const into = out.get(key);
      if (into) mergeActor(into, a);
      else out.set(key, { ...a, actor: key });
    }
    return [...out.values()];
  }

  build(meta: { inputs: string[]; selection: Record<string, unknown>; integrity: IntegritySummary; unreadable: number; partialTails: number; now: Date }): Report {
    // Attempts never completed: sent, outcome unknown. They count as statements of their actors.
    for (const e of this.openAttempts.values()) this.statement(e, 'unknown');
    this.openAttempts.clear();
    const callers = this.callerKeys();
    const actors: ActorSummary[] = this.resolvedActors(callers)
      .map(({ tableCounts, ...a }) => ({
        ...a,
        tables: [...tableCounts.entries()]
          .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
          .slice(0, 10)
          .map(([t]) => t),
      }))
      .sort((x, y) => y.statements - x.statements || (x.actor < y.actor ? -1 : 1));
    const resolveKey = (key: string) => callers.get(key) ?? key;
    const sensitive = [...this.sensitive.values()]
      .map(({ actorSet, ...c }) => ({ ...c, actors: [...new Set([...actorSet].map(resolveKey))].sort() }))
      .sort((x, y) => y.rows_returned - x.rows_returned || y.reads + y.writes - (x.reads + x.writes) || (x.column < y.column ? -1 : 1));
    const l = this.lists;
    return {
      schema: REPORT_SCHEMA,
      generated_at: meta.now.toISOString(),
      inputs: meta.inputs,
      selection: meta.selection,
      period: { ...(this.first ? { first: this.first } : {}), ...(this.last ? { last: this.last } : {}) },
      integrity: meta.integrity,
      events: { total: this.eventsTotal, by_type: this.byType },
      statements: { ...this.statements },
      actors,
      sensitive_columns: sensitive,
      unfinished: l.unfinished.list(),
      blocked: l.blocked.list(),
      would_block: l.wouldBlock.list(),
      overrides: l.overrides.list(),
      destructive: l.destructive.list(),
      failures: l.failures.list(),
      alerts: { ...l.alerts.list(), by_kind: this.alertKinds },
      gaps: { ...l.gaps.list(), records_lost: this.recordsLost },
      chain_starts: l.chainStarts.list(),
      unreadable_lines: meta.unreadable,
      partial_tails: meta.partialTails,
    };
  }
}
