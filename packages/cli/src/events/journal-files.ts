import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments } from '@querytrail/core';

/** A path the user named that holds no evidence: the message says which and why. */
export class InputError extends Error {}

/**
 * The segment files behind the paths given: a directory contributes its segments (qt-<chain>-<n>.jsonl,
 * in chain order: chain ids are UUIDv7, so by time); a file is taken as it is, in the order given.
 * `allowEmptyDir`: a directory without segments yet is not an error (tail -f waits for the first).
 */
export function journalFiles(paths: readonly string[], options: { allowEmptyDir?: boolean } = {}): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    // The same segment named twice (a directory and a file in it) is read once, not counted twice.
    const real = realpathSync(file);
    if (seen.has(real)) return;
    seen.add(real);
    files.push(file);
  };
  for (const p of paths) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(p);
    } catch {
      throw new InputError(`${p}: no such file or directory`);
    }
    const isDir = stat.isDirectory();
    // A pipe or device has no end to read to, and tail -f could not tell what is new in it.
    if (!isDir && !stat.isFile()) throw new InputError(`${p}: not a regular file or directory (save a stream to a file first)`);
    if (!isDir) {
      add(p);
      continue;
    }
    const segments = listSegments(p);
    if (segments.length === 0 && !options.allowEmptyDir) throw new InputError(`${p}: no journal segments (qt-*.jsonl) in this directory`);
    for (const s of segments) add(join(p, s.file));
  }
  return files;
}
