import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyJournal, type VerifyReport } from '@querytrail/core';
import type { Io } from '../main.js';

const HELP = `usage: querytrail verify <dir|segment files...> [--json]

Recomputes every hash chain from the stored bytes: seq +1 exactly, prev_hash = SHA-256 of the
previous line, links between chains. Reports each segment as valid, INVALID or WARN.

  --json    print the full report as JSON on stdout
Exit status: 0 when nothing is INVALID, 1 when anything is, 2 for a usage or input error.
`;

function render(report: VerifyReport): string {
  const lines: string[] = [];
  lines.push(`querytrail verify: ${report.segments.length} segment(s), ${report.chains.length} chain(s), ${report.records} record(s)`);
  for (const seg of report.segments) {
    const range = seg.first_seq === undefined ? 'empty' : `seq ${seg.first_seq}..${seg.last_seq}`;
    lines.push(`  ${seg.status.padEnd(7)}  ${seg.file}  (${seg.records} records, ${range})`);
    for (const f of report.findings) {
      if (f.segment && seg.file.endsWith(f.segment)) {
        const at = [f.line === undefined ? '' : `line ${f.line}`, f.seq === undefined ? '' : `seq ${f.seq}`].filter(Boolean).join(' ');
        lines.push(`           ${f.verdict} ${f.code}${at ? ` at ${at}` : ''}: ${f.message}`);
      }
    }
  }
  for (const f of report.findings) {
    if (!f.segment) lines.push(`  ${f.verdict.padEnd(7)}  chain ${f.chain_id ?? '?'}: ${f.code}: ${f.message}`);
  }
  lines.push(
    report.ok
      ? `result: valid (${report.warnings} warning(s))`
      : `result: INVALID (${report.invalid} invalid finding(s), ${report.warnings} warning(s))`,
  );
  return `${lines.join('\n')}\n`;
}

export async function runVerify(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`querytrail verify: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(HELP);
    return 0;
  }
  const paths = parsed.positionals;
  if (paths.length === 0) {
    io.err(`querytrail verify: name a journal directory or segment files\n${HELP}`);
    return 2;
  }
  for (const p of paths) {
    if (!existsSync(p)) {
      io.err(`querytrail verify: ${p}: no such file or directory\n`);
      return 2;
    }
  }
  let report: VerifyReport;
  try {
    report = verifyJournal(paths);
  } catch (err) {
    io.err(`querytrail verify: ${(err as Error).message}\n`);
    return 2;
  }
  if (report.segments.length === 0) {
    io.err(`querytrail verify: no journal segments (qt-*.jsonl) found in ${paths.join(', ')}\n`);
    return 2;
  }
  io.out(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return report.ok ? 0 : 1;
}
