import type { ItemList, Report } from './report.js';

/** A report section, independent of how it is printed (text or Markdown). */
export interface Section {
  title: string;
  lines: string[];
  table?: { header: string[]; rows: string[][] };
}

const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

function itemSection(title: string, list: ItemList, empty: string, more: string, extra: string[] = []): Section {
  if (list.total === 0) return { title, lines: [empty] };
  const lines = [...extra];
  if (list.total > list.items.length) lines.push(`${list.total} in all; the first ${list.items.length} below. All of them: ${more}`);
  return {
    title: `${title} (${list.total})`,
    lines,
    table: {
      header: ['time', 'actor', 'what', 'why', 'event_id'],
      rows: list.items.map((i) => [
        i.time,
        i.actor,
        i.summary,
        [i.rule_id, i.reason, i.error, i.window ? `window ${i.window}` : undefined, i.approval ? `approval ${i.approval}` : undefined].filter(Boolean).join(': ') || '-',
        i.event_id,
      ]),
    },
  };
}

/** The report as sections, most urgent first: integrity and losses, then what was stopped or forced, then who read what. */
export function reportSections(r: Report, paths: string): Section[] {
  const out: Section[] = [];
  const i = r.integrity;
  const integrity: string[] = [];
  if (!i.checked) integrity.push('not checked (--no-verify): run querytrail verify before relying on this report');
  else {
    integrity.push(
      i.ok
        ? `valid: ${i.records} records in ${i.chains} chain(s), ${i.warnings} warning(s)`
        : `INVALID: ${i.invalid} invalid finding(s), ${i.warnings} warning(s) — this evidence has been damaged or altered; details: querytrail verify ${paths}`,
    );
    for (const f of i.findings ?? []) integrity.push(`${f.verdict} ${f.code} ×${f.count}: ${f.example}`);
  }
  if (r.unreadable_lines > 0) integrity.push(`${r.unreadable_lines} line(s) that are not events were skipped`);
  out.push({ title: 'Integrity', lines: integrity });

  const s = r.statements;
  const overview = [
    `period: ${r.period.first ?? '-'} to ${r.period.last ?? '-'}`,
    `events: ${r.events.total} (${counts(r.events.by_type)})`,
    `statements: ${s.total}; by class: ${counts(s.by_class)}; by outcome: ${counts(s.by_outcome)}`,
    `destructive statements executed: ${s.destructive}`,
  ];
  if (s.without_actor > 0) overview.push(`statements with no actor (sent outside any audit context): ${s.without_actor}`);
  if (s.without_outcome > 0) overview.push(`attempts with no outcome recorded (process died, or still running): ${s.without_outcome}`);
  out.push({ title: 'Overview', lines: overview });

  out.push(
    r.gaps.total === 0
      ? { title: 'Lost records', lines: ['none: no sink.gap record in this evidence'] }
      : itemSection('Lost records', r.gaps, '', `querytrail search ${paths} --type sink.gap`, [`${r.gaps.records_lost} record(s) lost in all, each loss recorded`]),
  );
  out.push(itemSection('Blocked statements', r.blocked, 'none', `querytrail search ${paths} --outcome blocked`));
  out.push(itemSection('Break-glass overrides', r.overrides, 'none', `querytrail search ${paths} --type policy.override`));
  out.push(itemSection('Destructive statements executed', r.destructive, 'none', `querytrail search ${paths} --destructive --outcome success --outcome failure`));
  out.push(itemSection('Would have been blocked (monitor mode)', r.would_block, 'none', `querytrail search ${paths} --decision block --outcome success --outcome failure`));
  out.push(
    r.alerts.total === 0
      ? { title: 'Alerts', lines: ['none'] }
      : itemSection('Alerts', r.alerts, '', `querytrail search ${paths} --type policy.alert`, [`by kind: ${counts(r.alerts.by_kind)}`]),
  );
  out.push(
    r.sensitive_columns.length === 0
      ? { title: 'Sensitive columns read', lines: ['none'] }
      : {
          title: `Sensitive columns read (${r.sensitive_columns.length})`,
          lines: [],
          table: {
            header: ['column', 'category', 'statements', 'rows returned', 'actors'],
            rows: r.sensitive_columns.map((c) => [c.column, c.category, String(c.statements), String(c.rows_returned), c.actors.join(', ')]),
          },
        },
  );
  out.push(
    r.actors.length === 0
      ? { title: 'Actors', lines: ['none'] }
      : {
          title: `Actors (${r.actors.length})`,
          lines: [],
          table: {
            header: ['actor', 'statements', 'by class', 'destructive', 'blocked', 'failed', 'sensitive reads (rows)', 'overrides', 'tables', 'first', 'last'],
            rows: r.actors.map((a) => [
              a.name ? `${a.actor} (${a.name})` : a.actor,
              String(a.statements),
              counts(a.by_class),
              String(a.destructive),
              String(a.blocked),
              String(a.failed),
              `${a.sensitive_reads} (${a.sensitive_rows})`,
              String(a.overrides),
              a.tables.join(', ') || '-',
              a.first,
              a.last,
            ]),
          },
        },
  );
  out.push(itemSection('Failed statements', r.failures, 'none', `querytrail search ${paths} --outcome failure`));
  out.push(itemSection('Chain starts', r.chain_starts, 'none', `querytrail search ${paths} --type chain.genesis`));
  return out;
}
