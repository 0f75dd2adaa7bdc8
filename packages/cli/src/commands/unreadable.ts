import type { UnreadableLine } from '../events/parse-event.js';
import type { Io } from '../main.js';

const NAMED = 20;

/**
 * Names the first unreadable lines on stderr, then counts the rest: never silent, never a flood.
 * Also names files that end in a partial line (a write under way, or one a crash cut short).
 */
export function unreadableReporter(command: string, io: Io) {
  let count = 0;
  let partial = 0;
  return {
    report(line: UnreadableLine): void {
      count += 1;
      if (count <= NAMED) io.err(`querytrail ${command}: ${line.file}:${line.line}: ${line.reason}: skipped\n`);
    },
    partialTail(file: string, bytes: number): void {
      partial += 1;
      io.err(`querytrail ${command}: ${file} ends in ${bytes} bytes without a newline (a write under way, or one a crash cut short): not read\n`);
    },
    summary(): void {
      if (count > NAMED) io.err(`querytrail ${command}: ${count} unreadable lines in all (the first ${NAMED} named above)\n`);
      if (count > 0) io.err(`querytrail ${command}: run 'querytrail verify' on this evidence: a line that is not an event is damage or tampering\n`);
    },
    get count(): number {
      return count;
    },
    get partialTails(): number {
      return partial;
    },
  };
}
