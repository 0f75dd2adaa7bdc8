import type { QuerytrailEvent } from '@querytrail/core';
import type { ActorSummary, IntegritySummary, ItemList, Report, ReportItem, SensitiveColumn } from './report.js';
import { REPORT_SCHEMA } from './report.js';

const NO_ACTOR = '(none)';

function actorKey(e: QuerytrailEvent): string {
  return e.actor ? `${e.actor.type}:${e.actor.id}` : NO_ACTOR;
}

function summaryOf(e: QuerytrailEvent): string {
  if (e.gap) return `${e.gap.count} record(s) lost: ${e.gap.cause}`;
  if (e.genesis) return `chain ${e.integrity?.chain_id ?? '?'}: ${e.genesis.reason}`;
  if (e.alert) return `${e.alert.kind} (${e.alert.severity}): ${e.alert.reason}`;
  const text = e.statement?.summary ?? e.statement?.text ?? e.statement?.command ?? e.type;
  return text.replace(/\s+/g, ' ').trim();
}

function itemOf(e: QuerytrailEvent): ReportItem {
  const item: ReportItem = { time: e.time, event_id: e.event_id, type: e.type, actor: actorKey(e), summary: summaryOf(e) };
  const rule = e.policy?.rule_id ?? e.alert?.rule_id;
  if (rule) item.rule_id = rule;
  if (e.policy?.reason) item.reason = e.policy.reason;
  if (e.request?.id) item.request_id = e.request.id;
  if (e.result?.outcome) item.outcome = e.result.outcome;
  if (e.result?.error) item.error = `${e.result.error.code ? `${e.result.error.code} ` : ''}${e.result.error.message}`;
  if (e.policy?.window) item.window = e.policy.window.id;
  if (e.policy?.approval) item.approval = `${e.policy.approval.ticket}${e.policy.approval.approver ? ` by ${e.policy.approval.approver}` : ''}`;
  return item;
}

const bump = (counts: Record<string, number>, key: string, by = 1) => {
  counts[key] = (counts[key] ?? 0) + by;
};

class Items {
  total = 0;
  readonly items: ReportItem[] = [];
  constructor(private readonly top: number) {}
  add(e: QuerytrailEvent): void {
    this.total += 1;
    if (this.items.length < this.top) this.items.push(itemOf(e));
  }
  list(): ItemList {
    return { total: this.total, items: this.items };
  }
}

interface ActorState extends Omit<ActorSummary, 'tables'> {
  tableCounts: Map<string, number>;
}

/** Folds selected events, in journal order, into a Report. Memory grows with actors and columns, not events. */
export class ReportBuilder {
  private first: string | undefined;
  private last: string | undefined;
  private eventsTotal = 0;
  private readonly byType: Record<string, number> = {};
  private readonly statements = { total: 0, by_class: {} as Record<string, number>, by_outcome: {} as Record<string, number>, destructive: 0, without_actor: 0 };
  private readonly openAttempts = new Set<string>();
  private readonly actors = new Map<string, ActorState>();
  private readonly sensitive = new Map<string, SensitiveColumn & { actorSet: Set<string> }>();
  private readonly blocked: Items;
  private readonly wouldBlock: Items;
  private readonly overrides: Items;
  private readonly destructive: Items;
  private readonly failures: Items;
  private readonly alerts: Items;
  private readonly alertKinds: Record<string, number> = {};
  private readonly gaps: Items;
  private recordsLost = 0;
  private readonly chainStarts: Items;

  constructor(top: number) {
    this.blocked = new Items(top);
    this.wouldBlock = new Items(top);
    this.overrides = new Items(top);
    this.destructive = new Items(top);
    this.failures = new Items(top);
    this.alerts = new Items(top);
    this.gaps = new Items(top);
    this.chainStarts = new Items(top);
  }

  add(e: QuerytrailEvent): void {
    this.eventsTotal += 1;
    bump(this.byType, e.type);
    if (this.first === undefined || e.time < this.first) this.first = e.time;
    if (this.last === undefined || e.time > this.last) this.last = e.time;
    switch (e.type) {
      case 'db.query.attempt':
        this.openAttempts.add(e.event_id);
        return;
      case 'db.query':
      case 'db.query.blocked':
        if (e.attempt_id) this.openAttempts.delete(e.attempt_id);
        this.statement(e);
        return;
      case 'policy.override':
        this.overrides.add(e);
        this.actor(e).overrides += 1;
        return;
      case 'policy.alert':
        this.alerts.add(e);
        bump(this.alertKinds, e.alert?.kind ?? 'unknown');
        return;
      case 'sink.gap':
        this.gaps.add(e);
        this.recordsLost += e.gap?.count ?? 0;
        return;
      case 'chain.genesis':
        this.chainStarts.add(e);
        return;
      default:
        return;
    }
  }

  private actor(e: QuerytrailEvent): ActorState {
    const key = actorKey(e);
    let a = this.actors.get(key);
    if (!a) {
      a = {
        actor: key,
        ...(e.actor?.name ? { name: e.actor.name } : {}),
        statements: 0,
        by_class: {},
        destructive: 0,
        blocked: 0,
        failed: 0,
        sensitive_reads: 0,
        sensitive_rows: 0,
        overrides: 0,
        first: e.time,
        last: e.time,
        tableCounts: new Map(),
      };
      this.actors.set(key, a);
    }
    if (e.time < a.first) a.first = e.time;
    if (e.time > a.last) a.last = e.time;
    return a;
  }

  private statement(e: QuerytrailEvent): void {
    const s = this.statements;
    const cls = e.statement?.class ?? 'unknown';
    const outcome = e.result?.outcome ?? (e.type === 'db.query.blocked' ? 'blocked' : 'unknown');
    s.total += 1;
    bump(s.by_class, cls);
    bump(s.by_outcome, outcome);
    if (!e.actor) s.without_actor += 1;
    const a = this.actor(e);
    a.statements += 1;
    bump(a.by_class, cls);
    for (const o of e.objects ?? []) {
      const name = o.schema ? `${o.schema}.${o.name}` : o.name;
      a.tableCounts.set(name, (a.tableCounts.get(name) ?? 0) + 1);
    }
    const destructive = e.statement?.destructive === true;
    if (outcome === 'blocked') {
      a.blocked += 1;
      this.blocked.add(e);
    } else {
      if (destructive) {
        s.destructive += 1;
        a.destructive += 1;
        this.destructive.add(e);
      }
      if (e.policy?.decision === 'block' && e.policy.mode === 'monitor') this.wouldBlock.add(e);
      if (outcome === 'failure') {
        a.failed += 1;
        this.failures.add(e);
      }
    }
    const matched = e.sensitivity?.matched ?? [];
    if (matched.length > 0 && outcome !== 'blocked') {
      const rows = e.result?.rows_returned ?? 0;
      a.sensitive_reads += 1;
      a.sensitive_rows += rows;
      const seen = new Set<string>();
      for (const m of matched) {
        const column = `${m.object}.${m.column}`;
        if (seen.has(column)) continue;
        seen.add(column);
        let c = this.sensitive.get(column);
        if (!c) {
          c = { column, category: m.category, rule_id: m.rule_id, statements: 0, rows_returned: 0, actors: [], actorSet: new Set() };
          this.sensitive.set(column, c);
        }
        c.statements += 1;
        c.rows_returned += rows;
        c.actorSet.add(a.actor);
      }
    }
  }

  build(meta: { inputs: string[]; selection: Record<string, unknown>; integrity: IntegritySummary; unreadable: number; now: Date }): Report {
    const actors: ActorSummary[] = [...this.actors.values()]
      .map(({ tableCounts, ...a }) => ({
        ...a,
        tables: [...tableCounts.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 10).map(([t]) => t),
      }))
      .sort((x, y) => y.statements - x.statements || (x.actor < y.actor ? -1 : 1));
    const sensitive = [...this.sensitive.values()]
      .map(({ actorSet, ...c }) => ({ ...c, actors: [...actorSet].sort() }))
      .sort((x, y) => y.rows_returned - x.rows_returned || y.statements - x.statements || (x.column < y.column ? -1 : 1));
    return {
      schema: REPORT_SCHEMA,
      generated_at: meta.now.toISOString(),
      inputs: meta.inputs,
      selection: meta.selection,
      period: { ...(this.first ? { first: this.first } : {}), ...(this.last ? { last: this.last } : {}) },
      integrity: meta.integrity,
      events: { total: this.eventsTotal, by_type: this.byType },
      statements: { ...this.statements, without_outcome: this.openAttempts.size },
      actors,
      sensitive_columns: sensitive,
      blocked: this.blocked.list(),
      would_block: this.wouldBlock.list(),
      overrides: this.overrides.list(),
      destructive: this.destructive.list(),
      failures: this.failures.list(),
      alerts: { ...this.alerts.list(), by_kind: this.alertKinds },
      gaps: { ...this.gaps.list(), records_lost: this.recordsLost },
      chain_starts: this.chainStarts.list(),
      unreadable_lines: meta.unreadable,
    };
  }
}
