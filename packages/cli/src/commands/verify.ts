import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadTrustedKeys, type TrustedKey, verifyJournal, type VerifyReport } from '@querytrail/core';
import type { Io } from '../main.js';

const HELP = `usage: querytrail verify <dir|segment files...> [--public-key FILE]... [--json]

Recomputes every hash chain from the stored bytes: seq +1 exactly, prev_hash = SHA-256 of the
previous line, signed checkpoints (Ed25519 over a Merkle root), links between chains. Reports each
segment as valid, INVALID or WARN, and a summary.

  --public-key FILE   trust checkpoints signed by this key: a PEM public key, or a JSON keyring
                      {"keys":[{"public_key":"<PEM>","not_before":"…","not_after":"…"}]}; repeatable
  --json              print the full report as JSON on stdout
Exit status: 0 when nothing is INVALID, 1 when anything is, 2 for a usage or input error.
`;

/** A one-line progress bar on stderr, only when stderr is a terminal. */
function ttyProgress(done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  process.stderr.write(`\rverifying [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} segments`);
}

function render(report: VerifyReport): string {
  const lines: string[] = [];
  lines.push(`querytrail verify: ${report.segments.length} segment(s), ${report.chains.length} chain(s), ${report.records} record(s)`);
  for (const seg of report.segments) {
    const range = seg.first_seq === undefined ? 'empty' : `seq ${seg.first_seq}..${seg.last_seq}`;
    lines.push(`  ${seg.status.padEnd(7)}  ${seg.file}  (${seg.records} records, ${range})`);
    for (const f of report.findings) {
      if (f.segment && seg.file.endsWith(`/${f.segment}`)) {
        const at = [f.line === undefined ? '' : `line ${f.line}`, f.seq === undefined ? '' : `seq ${f.seq}`].filter(Boolean).join(' ');
        lines.push(`           ${f.verdict} ${f.code}${at ? ` at ${at}` : ''}: ${f.message}`);
      }
    }
  }
  const segmentFiles = new Set(report.segments.map((x) => x.file.slice(x.file.lastIndexOf('/') + 1)));
  for (const c of report.chains) {
    lines.push(`  chain ${c.chain_id}: ${c.status}, ${c.records} records, ${c.checkpoints} checkpoint(s), anchored through seq ${c.anchored}`);
  }
  for (const f of report.findings) {
    if (!f.segment || !segmentFiles.has(f.segment)) lines.push(`  ${f.verdict.padEnd(7)}  chain ${f.chain_id ?? '?'}: ${f.code}: ${f.message}`);
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
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'public-key': { type: 'string', multiple: true } },
    });
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
  const keys: TrustedKey[] = [];
  for (const file of (parsed.values['public-key'] as string[] | undefined) ?? []) {
    try {
      keys.push(...loadTrustedKeys(file));
    } catch (err) {
      io.err(`querytrail verify: --public-key ${file}: ${(err as Error).message}\n`);
      return 2;
    }
  }
  let report: VerifyReport;
  const progress = io.progress ?? (process.stderr.isTTY ? ttyProgress : undefined);
  try {
    report = verifyJournal(paths, { publicKeys: keys, ...(progress ? { onProgress: progress } : {}) });
  } catch (err) {
    io.err(`querytrail verify: ${(err as Error).message}\n`);
    return 2;
  } finally {
    if (progress === ttyProgress) process.stderr.write('\r\x1b[K');
  }
  if (report.segments.length === 0) {
    io.err(`querytrail verify: no journal segments (qt-*.jsonl) found in ${paths.join(', ')}\n`);
    return 2;
  }
  io.out(parsed.values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return report.ok ? 0 : 1;
}
