import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { journalFiles } from '../events/journal-files.js';
import { LineReader } from '../events/line-reader.js';
import type { StoredEvent } from '../events/parse-event.js';
import { type ScanHandlers, scanReader } from '../events/scan.js';
import { type CompiledFilter, compileFilter } from '../filter/event-filter.js';
import { FILTER_HELP, FILTER_OPTIONS, filterFromOptions } from '../filter/filter-options.js';
import { FORMAT_HELP, type OutputFormat, outputFormat, printable } from '../format/output-format.js';
import type { Io } from '../main.js';
import { inputError, parseCommandLine } from './command-line.js';
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
  const parsed = parseCommandLine('tail', HELP, io, () => parseOptions(argv));
  if (typeof parsed === 'number') return parsed;
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
    return inputError('tail', err, io);
  }
  const unreadable = unreadableReporter('tail', io);
  /** The text of an event in the chosen format; undefined when it has none (no OCSF form) or cannot be put in it (named). */
  const textOf = (found: StoredEvent): string | undefined => {
    const p = printable(found, format);
    if ('unreadable' in p) {
      unreadable.report({ file: found.stored.file, line: found.stored.line, reason: p.unreadable });
      return undefined;
    }
    return p.text;
  };

  // The last `count` matches: newest segment first, until enough are found. Each file keeps its
  // texts in a ring of the size still needed, so memory and time are bounded by `count`.
  const readers = new Map<string, FollowedFile>();
  const last: string[][] = [];
  let found = 0;
  for (let i = files.length - 1; i >= 0; i -= 1) {
    const file = files[i]!;
    const reader = new LineReader(file);
    if (found >= count) {
      // Enough already. Following, only where this file ends now matters; else it is not read at all.
      if (parsed.values.follow) {
        reader.skipToEnd();
        readers.set(file, followed(file, reader));
      }
      continue;
    }
    const need = count - found;
    const ring: string[] = new Array(need);
    let seen = 0;
    scanReader(reader, filter, {
      onEvent: (e) => {
        const text = textOf(e);
        if (text === undefined) return;
        ring[seen % need] = text;
        seen += 1;
      },
      onUnreadable: unreadable.report,
      // Following, a partial last line is a write under way: it is printed once complete.
      ...(parsed.values.follow ? {} : { onPartialTail: unreadable.partialTail }),
    });
    const kept = Math.min(seen, need);
    last.unshift(Array.from({ length: kept }, (_, k) => ring[(seen - kept + k) % need]!));
    found += kept;
    if (parsed.values.follow) readers.set(file, followed(file, reader));
  }
  for (const text of last.flat()) io.out(text);
  if (!parsed.values.follow) {
    unreadable.summary();
    return 0;
  }

  const handlers: ScanHandlers = {
    onEvent: (e) => {
      const text = textOf(e);
      if (text !== undefined) io.out(text);
    },
    onUnreadable: unreadable.report,
  };
  const signal = io.signal;
  while (!signal?.aborted) {
    await sleep(interval, undefined, signal ? { signal } : {}).catch(() => undefined);
    if (signal?.aborted) break;
    for (const file of followedFiles(parsed.positionals)) {
      const stat = statOf(file);
      let entry = readers.get(file);
      if (!stat) {
        readers.delete(file); // removed or renamed away: the others go on
        continue;
      }
      if (entry && (entry.ino !== stat.ino || stat.size < entry.reader.offset)) {
        // Replaced (another inode) or cut: journals only grow, so say so and read it from its start.
        io.err(`querytrail tail: ${file} was ${entry.ino !== stat.ino ? 'replaced' : `cut from ${entry.reader.offset} to ${stat.size} bytes`}: reading it again from the start\n`);
        entry = undefined;
      }
      if (!entry) {
        entry = followed(file, new LineReader(file), stat.ino);
        readers.set(file, entry);
      }
      // Unchanged since the last read (an unterminated tail included): nothing to read again.
      if (stat.size === entry.size) continue;
      try {
        scanReader(entry.reader, filter, handlers);
        entry.size = stat.size;
      } catch (err) {
        // Removed or renamed between the stat and the read (crash recovery sets an empty segment aside).
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        readers.delete(file);
      }
    }
  }
  unreadable.summary();
  return 0;
}

/** A file tail -f reads: its reader, the inode it was opened as, and its size at the last read. */
interface FollowedFile {
  reader: LineReader;
  ino: number;
  size: number;
}

function followed(file: string, reader: LineReader, ino = statOf(file)?.ino ?? -1): FollowedFile {
  return { reader, ino, size: reader.offset + reader.pending };
}

function statOf(file: string): { size: number; ino: number } | undefined {
  try {
    const st = statSync(file);
    return { size: st.size, ino: st.ino };
  } catch {
    return undefined; // gone: nothing to read
  }
}

/** Each path on its own: a directory's segments now (new ones included), a file if it is still there. */
function followedFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    try {
      out.push(...journalFiles([p], { allowEmptyDir: true }));
    } catch {
      // gone this instant: look again next time
    }
  }
  return out;
}
