import { runVerify } from './commands/verify.js';

const USAGE = `usage: querytrail <command> [options]

commands:
  verify <dir|files...> [--public-key K] [--json]   check chains and signed checkpoints; exit 1 if anything is INVALID

Run 'querytrail <command> --help' for a command's options.
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Progress callback for long runs; default: a bar on stderr when it is a terminal. */
  progress?: (done: number, total: number) => void;
}

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Returns the exit code: 0 ok, 1 evidence INVALID, 2 usage or input error. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'verify':
      return runVerify(rest, io);
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
