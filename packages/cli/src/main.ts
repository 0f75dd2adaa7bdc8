import { runVerify } from './commands/verify.js';

const USAGE = `usage: querytrail <command> [options]

commands:
  verify <dir|segment files...> [--json]   recompute the hash chains; exit 1 if any record is INVALID

Run 'querytrail <command> --help' for a command's options.
`;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
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
