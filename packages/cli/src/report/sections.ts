import type { ItemList, Report } from './report.js';

/** A report section, independent of how it is printed (text or Markdown). Its strings are raw: the printer escapes them. */
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

/** A shell word: left bare when it is safe, else single-quoted. */
const shellWord = (s: string) => (/^[\w./:@=,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The selection as command-line options, to repeat it in a `querytrail search` hint. */
function selectionArgs(selection: Record<string, unknown>): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(selection)) {
    if (value === true) args.push(`--${name}`);
    else for (const v of Array.isArray(value) ? value : [value]) args.push(`--${name}`, String(v));
  }
  return args;
}

function itemSection(title: string, list: ItemList, empty: string, search: string[], extra: string[] = []): Section {
  if (list.total === 0) return { title, lines: [empty] };
  const lines = [...extra];
  if (list.total > list.items.length) lines.push(`${list.total} in all; the oldest ${list.items.length} below. To list them (and some neighbours: search has no option for exactly this section): querytrail search ${search.map(shellWord).join(' ')}`);
  return {
    title: `${title} (${list.total})`,
    lines,
    table: {
      header: ['time', 'actor', 'outcome', 'what', 'why', 'event_id'],
      rows: list.items.map((i) => [
        i.time,
        i.actor,
        i.outcome ?? '-',
        i.summary,
        [i.rule_id, i.reason, i.error, i.window ? `window ${i.window}` : undefined, i.approval ? `approval ${i.approval}` : undefined].filter(Boolean).join(': ') || '-',
        i.event_id,
      ]),
    },
  };
}

/** The report as sections, most urgent first: integrity and losses, then what was stopped or forced, then who read what. */
export function reportSections(r: Report): Section[] {
  const out: Section[] = [];
  const inputs = r.inputs;
  const selected = selectionArgs(r.selection);
  const search = (...options: string[]) => [...inputs, ...selected, ...options];
  const period = selectionArgs(Object.fromEntries(Object.entries(r.selection).filter(([k]) => k === 'since' || k === 'until')));

  const i = r.integrity;
  const integrity: string[] = [];
  if (!i.checked) integrity.push(`NOT CHECKED (${i.not_checked ?? 'unknown reason'}): run querytrail verify before relying on this report`);
  else {
    integrity.push(
      i.ok
        ? `valid: ${i.records} records in ${i.chains} chain(s), ${i.warnings} warning(s)`
        : `INVALID: ${i.invalid} invalid finding(s), ${i.warnings} warning(s); this evidence has been damaged or altered. Details: querytrail verify ${inputs.map(shellWord).join(' ')}`,
    );
    for (const f of i.findings ?? []) integrity.push(`${f.verdict} ${f.code} ×${f.count}: ${f.example}`);
  }
  if (r.unreadable_lines > 0) integrity.push(`${r.unreadable_lines} line(s) that are not events were skipped (named on stderr)`);
  if (r.partial_tails > 0) integrity.push(`${r.partial_tails} file(s) end in a partial line, not read (named on stderr)`);
  out.push({ title: 'Integrity', lines: integrity });

  const s = r.statements;
  const overview = [
    `selection: ${selected.length === 0 ? 'everything' : selected.join(' ')}`,
    `period: ${r.period.first ?? '-'} to ${r.period.last ?? '-'}`,
    `events: ${r.events.total} (${counts(r.events.by_type)})`,
    `statements: ${s.total}; by class: ${counts(s.by_class)}; by outcome: ${counts(s.by_outcome)}`,
    `destructive statements sent: ${s.destructive}`,
  ];
  if (s.without_actor > 0) overview.push(`statements with no actor (sent outside any audit context): ${s.without_actor}`);
  if (r.unfinished.total > 0) overview.push(`statements sent whose outcome was never recorded: ${r.unfinished.total}`);
  if (s.not_sent_as_recorded > 0) overview.push(`records of statements an application wrapper sent with other text (QT_ERR_NOT_SENT_AS_RECORDED; what was sent has its own record): ${s.not_sent_as_recorded}`);
  out.push({ title: 'Overview', lines: overview });

  out.push(
    r.gaps.total === 0
      ? { title: 'Lost records', lines: ['none: no sink.gap record in this evidence in the period'] }
      : itemSection('Lost records', r.gaps, '', [...inputs, ...period, '--type', 'sink.gap'], [`${r.gaps.records_lost} record(s) lost in all, each loss recorded (whatever the selection)`]),
  );
  out.push(
    itemSection('Sent, outcome never recorded', r.unfinished, 'none', search('--type', 'db.query.attempt'), [
      'attempts (sync mode) with no db.query naming them: each may have been sent (an attempt is durable before its statement is sent); the process died, or the statement was still running',
    ]),
  );
  out.push(itemSection('Blocked statements', r.blocked, 'none', search('--outcome', 'blocked')));
  out.push(itemSection('Break-glass overrides', r.overrides, 'none', search('--type', 'policy.override')));
  out.push(itemSection('Destructive statements sent', r.destructive, 'none', search('--destructive', '--type', 'db.query*')));
  out.push(itemSection('Would have been blocked (monitor mode)', r.would_block, 'none', search('--decision', 'block', '--type', 'db.query')));
  out.push(
    r.alerts.total === 0
      ? { title: 'Alerts', lines: ['none'] }
      : itemSection('Alerts', r.alerts, '', search('--type', 'policy.alert'), [`by kind: ${counts(r.alerts.by_kind)}`]),
  );
  out.push(
    r.sensitive_columns.length === 0
      ? { title: 'Sensitive columns', lines: ['none read or written'] }
      : {
          title: `Sensitive columns (${r.sensitive_columns.length})`,
          lines: ['reads: successful statements that read the column; a statement Prisma merged counts for each actor it served'],
          table: {
            header: ['column', 'category', 'reads', 'rows returned', 'writes', 'outcome unknown', 'actors'],
            rows: r.sensitive_columns.map((c) => [c.column, c.category, String(c.reads), String(c.rows_returned), String(c.writes), String(c.unfinished), c.actors.join(', ')]),
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
            header: ['actor', 'statements', 'by class', 'destructive', 'blocked', 'failed', 'unknown', 'sensitive reads (rows)', 'sensitive writes', 'overrides', 'tables', 'first', 'last'],
            rows: r.actors.map((a) => [
              a.name ? `${a.actor} (${a.name})` : a.actor,
              String(a.statements),
              counts(a.by_class),
              String(a.destructive),
              String(a.blocked),
              String(a.failed),
              String(a.unfinished),
              `${a.sensitive_reads} (${a.sensitive_rows})`,
              String(a.sensitive_writes),
              String(a.overrides),
              a.tables.join(', ') || '-',
              a.first,
              a.last,
            ]),
          },
        },
  );
  out.push(itemSection('Failed statements', r.failures, 'none', search('--outcome', 'failure', '--type', 'db.query')));
  out.push(itemSection('Chain starts', r.chain_starts, 'none', [...inputs, ...period, '--type', 'chain.genesis']));
  return out;
}
