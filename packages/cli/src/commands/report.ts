import { parseArgs } from 'node:util';
import { loadTrustedKeys, type TrustedKey, verifyJournal } from '@querytrail/core';
import { journalFiles, verifyInputs } from '../events/journal-files.js';
import { scanFiles } from '../events/scan.js';
import { preciseMs } from '../events/time-arg.js';
import { type CompiledFilter, compileFilter } from '../filter/event-filter.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromOptions } from '../filter/filter-options.js';
import { sectionsMarkdown, sectionsText } from '../format/sections-output.js';
import type { Io } from '../main.js';
import { inputError, parseCommandLine } from './command-line.js';
import type { IntegritySummary } from '../report/report.js';
import { ReportBuilder } from '../report/report-builder.js';
import { reportSections } from '../report/sections.js';
import { unreadableReporter } from './unreadable.js';
import { wholeNumber } from './whole-number.js';

const HELP = `usage: querytrail report <dir|segment files...> [selection] [--format F] [--top N] [--no-verify]

A summary of the evidence for a security review: integrity (the whole of querytrail verify), lost
records, statements sent whose outcome was never recorded, blocked statements, break-glass overrides,
destructive statements sent, would-blocks, alerts, sensitive columns read and written and by whom,
each actor's activity, failures and chain restarts. The selection narrows the statements; lost
records and chain starts are always reported for the whole input in the period.

${FILTER_HELP}

  --format F          text (default), markdown (for a ticket or review), json (querytrail.report/1)
  --top N             list at most N events per section (default 20); totals are always complete
  --public-key FILE   trust checkpoints signed by this key (as for verify); repeatable
  --no-verify         skip the integrity check (the report then says it was not checked)

Exit status: 0, 1 when the integrity check finds anything INVALID, 2 for a usage or input error
(including input the integrity check cannot read: the report is printed, saying so).
`;

const FORMATS = ['text', 'markdown', 'json'] as const;

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
    ...FILTER_OPTIONS,
    format: { type: 'string' },
    json: { type: 'boolean' },
    top: { type: 'string' },
    'public-key': { type: 'string', multiple: true },
    'no-verify': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  });
}

export async function runReport(argv: string[], io: Io, now = new Date()): Promise<number> {
  const parsed = parseCommandLine('report', HELP, io, () => parseOptions(argv));
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  let files: string[];
  let filter: CompiledFilter;
  let inPeriod: (time: string) => boolean;
  let top = 20;
  let format: (typeof FORMATS)[number];
  const keys: TrustedKey[] = [];
  const selection: Record<string, unknown> = {};
  try {
    if (parsed.positionals.length === 0) throw new Error('name a journal directory, an archive or segment files');
    const { since, until, ...f } = filterFromOptions(v, now.getTime());
    // The period is applied here, not by the filter: a statement's completion after --until still
    // closes its attempt, and losses and chain starts in the period are reported whatever else is selected.
    filter = compileFilter(f);
    inPeriod = (time) => {
      const t = preciseMs(time);
      return (since === undefined || t >= since) && (until === undefined || t < until);
    };
    for (const name of Object.keys(FILTER_OPTIONS)) if (v[name as keyof typeof v] !== undefined) selection[name] = v[name as keyof typeof v];
    if (since !== undefined) selection.since = new Date(since).toISOString();
    if (until !== undefined) selection.until = new Date(until).toISOString();
    if (v.json && v.format !== undefined) throw new Error('--json and --format: give one of them');
    const name = v.json ? 'json' : (v.format ?? 'text');
    if (!(FORMATS as readonly string[]).includes(name)) throw new Error(`--format ${JSON.stringify(name)}: expected one of ${FORMATS.join(', ')}`);
    format = name as (typeof FORMATS)[number];
    top = wholeNumber('top', v.top, 20, 0);
    if (v['no-verify'] && v['public-key']) throw new Error('--public-key and --no-verify: keys are only used by the integrity check');
    for (const file of v['public-key'] ?? []) {
      try {
        keys.push(...loadTrustedKeys(file));
      } catch (err) {
        throw new Error(`--public-key ${file}: ${(err as Error).message}`);
      }
    }
    files = journalFiles(parsed.positionals);
  } catch (err) {
    return inputError('report', err, io);
  }

  const integrity = v['no-verify'] ? { checked: false, not_checked: '--no-verify' } : checkIntegrity(verifyInputs(parsed.positionals), keys);

  const builder = new ReportBuilder(top);
  const unreadable = unreadableReporter('report', io);
  // Every line is read (no byte prefilter): damaged lines are all counted, and the evidence records
  // (losses, chain starts) and attempt completions are needed whatever the selection.
  const everything: CompiledFilter = { matches: () => true, needles: [] };
  scanFiles(files, everything, {
    onEvent: ({ event: e, stored }) => {
      try {
        if (e.attempt_id !== undefined) builder.completes(e.attempt_id);
        if (!inPeriod(e.time)) return;
        if (e.type === 'sink.gap' || e.type === 'chain.genesis') builder.evidence(e);
        if (filter.matches(e)) builder.add(e);
      } catch (err) {
        // A shape parseEvent let through but the report could not read: named, never a crash.
        unreadable.report({ file: stored.file, line: stored.line, reason: `could not be read as an event (${(err as Error).message})` });
      }
    },
    onUnreadable: unreadable.report,
    onPartialTail: unreadable.partialTail,
  });
  unreadable.summary();
  const report = builder.build({ inputs: parsed.positionals, selection, integrity, unreadable: unreadable.count, partialTails: unreadable.partialTails, now });
  const title = `querytrail report: ${parsed.positionals.join(' ')}`;
  if (format === 'json') io.out(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const sections = reportSections(report);
    io.out(format === 'markdown' ? sectionsMarkdown(title, sections) : sectionsText(title, sections));
  }
  if (integrity.checked && !integrity.ok) return 1;
  // Integrity could not be checked at all (input verify cannot read): an input error, as for verify.
  return integrity.checked || v['no-verify'] ? 0 : 2;
}

/** `querytrail verify` over all the input, its findings grouped by code; an input verify cannot take is said, not thrown. */
function checkIntegrity(paths: string[], keys: TrustedKey[]): IntegritySummary {
  let checked: ReturnType<typeof verifyJournal>;
  try {
    checked = verifyJournal(paths, { publicKeys: keys });
  } catch (err) {
    return { checked: false, not_checked: `verify could not read this input: ${(err as Error).message}` };
  }
  const groups = new Map<string, { verdict: string; code: string; count: number; example: string }>();
  for (const f of checked.findings) {
    const key = `${f.verdict} ${f.code}`;
    const g = groups.get(key);
    if (g) g.count += 1;
    else groups.set(key, { verdict: f.verdict, code: f.code, count: 1, example: f.message });
  }
  return {
    checked: true,
    ok: checked.ok,
    records: checked.records,
    chains: checked.chains.length,
    invalid: checked.invalid,
    warnings: checked.warnings,
    findings: [...groups.values()],
  };
}
