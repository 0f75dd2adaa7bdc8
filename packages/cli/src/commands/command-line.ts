import { InputError } from '../events/journal-files.js';
import type { Io } from '../main.js';

/**
 * A command's options parsed, or its exit status already decided: 2 with the usage for options it
 * does not know, 0 after printing the usage for --help.
 */
export function parseCommandLine<T extends { values: { help?: boolean | undefined } }>(command: string, help: string, io: Io, parse: () => T): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    io.err(`querytrail ${command}: ${(err as Error).message}\n${help}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(help);
    return 0;
  }
  return parsed;
}

/** Says what is wrong with an option value or an input path; exit status 2. */
export function inputError(command: string, err: unknown, io: Io): number {
  const hint = err instanceof InputError ? '' : `Run 'querytrail ${command} --help' for the options.\n`;
  io.err(`querytrail ${command}: ${(err as Error).message}\n${hint}`);
  return 2;
}
