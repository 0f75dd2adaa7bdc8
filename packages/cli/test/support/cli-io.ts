import { type Io, main } from '../../src/main.js';
import { assertValidReport } from './report-schema.js';

export interface CapturedIo extends Io {
  stdout: string;
  stderr: string;
}

/** An Io that keeps what a command prints; `extra` adds input, a signal, ... */
export function captureIo(extra: Partial<Io> = {}): CapturedIo {
  const io: CapturedIo = {
    stdout: '',
    stderr: '',
    out: (s: string) => {
      io.stdout += s;
    },
    err: (s: string) => {
      io.stderr += s;
    },
    ...extra,
  };
  return io;
}

/** Runs `querytrail <argv>` in this process: its exit status and what it printed (a JSON report checked against its schema). */
export async function runCli(argv: string[], extra: Partial<Io> = {}): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo(extra);
  const code = await main(argv, io);
  // Every JSON report a test makes is held to the published schema.
  if (argv[0] === 'report' && (argv.includes('--json') || argv.join(' ').includes('--format json'))) assertValidReport(JSON.parse(io.stdout));
  return { code, out: io.stdout, err: io.stderr };
}
