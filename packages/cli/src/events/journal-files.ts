import { statSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments } from '@querytrail/core';

/** A path the user named that holds no evidence: the message says which and why. */
export class InputError extends Error {}

/**
 * The segment files behind the paths given: a directory contributes its segments (qt-<chain>-<n>.jsonl,
 * in chain order: chain ids are UUIDv7, so by time); a file is taken as it is, in the order given.
 */
export function journalFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new InputError(`${p}: no such file or directory`);
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const segments = listSegments(p);
    if (segments.length === 0) throw new InputError(`${p}: no journal segments (qt-*.jsonl) in this directory`);
    for (const s of segments) files.push(join(p, s.file));
  }
  return files;
}
