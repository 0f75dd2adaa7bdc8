import { createInterface } from 'node:readline';
import { runReport } from './commands/report.js';
import { runSearch } from './commands/search.js';
import { runShell } from './commands/shell.js';
import { runTail } from './commands/tail.js';
import { runVerify } from './commands/verify.js';

const USAGE = `usage: querytrail <command> [options]

commands:
  verify <dir|files...> [--public-key K] [--json]   check chains and signed checkpoints; exit 1 if anything is INVALID
  search <dir|files...> [selection] [--format F]    print the events that match (who did what, to which data)
  tail <dir|files...> [-n N] [-f] [selection]       the last events, and with -f new ones as they are written
  report <dir|files...> [--since T] [--format F]    a summary for a security review: actors, sensitive reads,
                                                     destructive and blocked statements, overrides, gaps, integrity
  shell --url URL --journal DIR [--actor ID]        an audited SQL shell for reaching a database from a workstation

Run 'querytrail <command> --help' for a command's options.
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Ends `tail -f` (the command line ends it with Ctrl-C). */
  signal?: AbortSignal;
  /** `shell`: the lines typed (standard input on the command line). */
  input?: AsyncIterable<string>;
  /** `shell`: print a banner and prompts (standard input is a terminal). */
  interactive?: boolean;
  /** Progress callback for long runs; default: a bar on stderr when it is a terminal. */
  progress?: (done: number, total: number) => void;
}

const stdio: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  // Made only when a command reads input: an unread stdin must not keep the process alive.
  get input() {
    const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
    // Ctrl-C on a terminal in raw mode reaches readline, not the process: passed on as the signal
    // the shell handles (it stops sending and closes its journal).
    lines.on('SIGINT', () => process.emit('SIGINT'));
    return lines;
  },
  get interactive() {
    return process.stdin.isTTY === true;
  },
};

/** Returns the exit code: 0 ok, 1 evidence INVALID, 2 usage or input error. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return runVerify(rest, io);
    case 'search':
      return runSearch(rest, io);
    case 'tail':
      return runTail(rest, io);
    case 'report':
      return runReport(rest, io);
    case 'shell':
      return runShell(rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      io.out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.err(`querytrail: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}
