import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { InputError, journalFiles } from '../events/journal-files.js';
import { LineReader } from '../events/line-reader.js';
import type { StoredEvent } from '../events/parse-event.js';
import { type ScanHandlers, scanReader } from '../events/scan.js';
import { type CompiledFilter, compileFilter } from '../filter/event-filter.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromOptions } from '../filter/filter-options.js';
import { FORMAT_HELP, formatEvent, type OutputFormat, outputFormat } from '../format/output-format.js';
import type { Io } from '../main.js';
import { unreadableReporter } from './unreadable.js';
import { wholeNumber } from './whole-number.js';

const HELP = `usage: querytrail tail <dir|segment files...> [-n N] [-f] [selection] [--format F]

Prints the last N events that match (default 10), oldest first. With -f, keeps printing new ones as
the journal grows, until interrupted: given a directory, new segments and new chains in it too (it
may have none yet); given files, those files.

  -n, --lines N     how many matching events to print first (0: none, only what follows)
  -f, --follow      keep reading as events are written
  --interval MS     with -f: how often to look for new lines (default 500)

${FILTER_HELP}

${FORMAT_HELP}

Exit status: 0, or 2 for a usage or input error.
`;

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
    ...FILTER_OPTIONS,
    lines: { type: 'string', short: 'n' },
    follow: { type: 'boolean', short: 'f' },
    interval: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  });
}

export async function runTail(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    io.err(`querytrail tail: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(HELP);
    return 0;
  }
  let filter: CompiledFilter;
  let format: OutputFormat;
  let count: number;
  let interval: number;
  let files: string[];
  try {
    if (parsed.positionals.length === 0) throw new Error('name a journal directory, an archive or segment files');
    filter = compileFilter(filterFromOptions(parsed.values));
    format = outputFormat(parsed.values);
    count = wholeNumber('lines', parsed.values.lines, 10, 0);
    interval = wholeNumber('interval', parsed.values.interval, 500, 10);
    files = journalFiles(parsed.positionals, { allowEmptyDir: parsed.values.follow === true });
  } catch (err) {
    io.err(`querytrail tail: ${(err as Error).message}\n${err instanceof InputError ? '' : `Run 'querytrail tail --help' for the options.\n`}`);
    return 2;
  }
  const unreadable = unreadableReporter('tail', io);
  const print = (found: StoredEvent) => {
    const text = formatEvent(found, format);
    if (text !== undefined) io.out(text);
    return text !== undefined;
  };

  // The last `count` matches: newest segment first, until enough are found; each file keeps only as
  // many as are still needed, so memory is bounded by `count`, not by a segment's size.
  const readers = new Map<string, LineReader>();
  const last: StoredEvent[][] = [];
  let found = 0;
  for (let i = files.length - 1; i >= 0; i -= 1) {
    const reader = new LineReader(files[i]!);
    readers.set(reader.file, reader);
    if (found >= count) {
      // Enough already: only where this file ends now matters, for -f.
      reader.skipToEnd();
      continue;
    }
    const need = count - found;
    const inFile: StoredEvent[] = [];
    scanReader(reader, filter, {
      onEvent: (e) => {
        if (format === 'ocsf' && formatEvent(e, format) === undefined) return;
        inFile.push(copyOf(e));
        if (inFile.length > need) inFile.shift();
      },
      onUnreadable: unreadable.report,
      // Following, a partial last line is a write under way: it is printed once complete.
      ...(parsed.values.follow ? {} : { onPartialTail: unreadable.partialTail }),
    });
    last.unshift(inFile);
    found += inFile.length;
  }
  for (const e of last.flat()) print(e);
  if (!parsed.values.follow) {
    unreadable.summary();
    return 0;
  }

  const handlers: ScanHandlers = { onEvent: (e) => void print(e), onUnreadable: unreadable.report };
  const signal = io.signal;
  while (!signal?.aborted) {
    await sleep(interval, undefined, signal ? { signal } : {}).catch(() => undefined);
    if (signal?.aborted) break;
    let current: string[];
    try {
      current = journalFiles(parsed.positionals, { allowEmptyDir: true });
    } catch {
      continue; // a file renamed or removed this instant: look again next time
    }
    for (const file of current) {
      let reader = readers.get(file);
      if (!reader) {
        reader = new LineReader(file);
        readers.set(file, reader);
      }
      const size = sizeOf(file);
      if (size < 0) {
        readers.delete(file);
        continue;
      }
      if (size < reader.offset) {
        // Journals only grow: a file that shrank was replaced or cut. Say so, and read it again.
        io.err(`querytrail tail: ${file} shrank from ${reader.offset} to ${size} bytes: reading it again from the start\n`);
        reader = new LineReader(file);
        readers.set(file, reader);
      }
      if (size <= reader.offset) continue;
      try {
        scanReader(reader, filter, handlers);
      } catch (err) {
        // Removed or renamed between the listing and the read (crash recovery sets an empty segment aside).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        readers.delete(file);
      }
    }
  }
  unreadable.summary();
  return 0;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1; // gone: nothing to read
  }
}

/** Line bytes point into a 1 MiB read chunk: the ones held for later are copied, so chunks can be freed. */
function copyOf(e: StoredEvent): StoredEvent {
  return { event: e.event, stored: { ...e.stored, bytes: Buffer.from(e.stored.bytes) } };
}
