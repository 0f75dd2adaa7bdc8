import { parseArgs } from 'node:util';
import { journalFiles } from '../events/journal-files.js';
import { scanFiles } from '../events/scan.js';
import { type CompiledFilter, compileFilter } from '../filter/event-filter.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromOptions } from '../filter/filter-options.js';
import { FORMAT_HELP, type OutputFormat, outputFormat, printable } from '../format/output-format.js';
import type { Io } from '../main.js';
import { inputError, parseCommandLine } from './command-line.js';
import { unreadableReporter } from './unreadable.js';
import { wholeNumber } from './whole-number.js';

const HELP = `usage: querytrail search <dir|segment files...> [selection] [--format F] [--limit N]

Prints the events that match, oldest first (chain order, then seq). Reads journal directories and
file archives alike; does not check integrity: run 'querytrail verify' for that.

${FILTER_HELP}

${FORMAT_HELP}
  --limit N         stop after N events

Exit status: 0 when an event matched, 1 when none did, 2 for a usage or input error.
Lines that are not querytrail events are named on stderr.
`;

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...FILTER_OPTIONS, format: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}

export async function runSearch(argv: string[], io: Io): Promise<number> {
  let files: string[];
  const parsed = parseCommandLine('search', HELP, io, () => parseOptions(argv));
  if (typeof parsed === 'number') return parsed;
  let filter: CompiledFilter;
  let format: OutputFormat;
  let limit = Number.POSITIVE_INFINITY;
  try {
    if (parsed.positionals.length === 0) throw new Error('name a journal directory, an archive or segment files');
    filter = compileFilter(filterFromOptions(parsed.values));
    format = outputFormat(parsed.values);
    limit = wholeNumber('limit', parsed.values.limit, Number.POSITIVE_INFINITY, 1);
    files = journalFiles(parsed.positionals);
  } catch (err) {
    return inputError('search', err, io);
  }
  let matched = 0;
  const unreadable = unreadableReporter('search', io);
  scanFiles(files, filter, {
    onEvent: (found) => {
      const p = printable(found, format);
      if ('unreadable' in p) {
        unreadable.report({ file: found.stored.file, line: found.stored.line, reason: p.unreadable });
        return true;
      }
      if (p.text === undefined) return true; // no OCSF form (sdk.*, heartbeat, ...): not an answer
      io.out(p.text);
      matched += 1;
      return matched < limit;
    },
    onUnreadable: unreadable.report,
    onPartialTail: unreadable.partialTail,
  });
  unreadable.summary();
  return matched > 0 ? 0 : 1;
}
