import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { listSegments, parseSegmentName } from '@querytrail/core';

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
  return inChainOrder(files);
}

/**
 * Segments named one by one may come in any order (`ls -t`, an S3 listing by date): they are read in
 * chain order (chain id, then number), or a statement's completion would come before its attempt.
 * Files that are not segments keep their place after them, in the order given.
 */
function inChainOrder(files: string[]): string[] {
  const named = files.map((file, i) => ({ file, i, seg: parseSegmentName(basename(file)) }));
  return named
    .sort((a, b) => {
      if (a.seg && b.seg) return a.seg.chainId === b.seg.chainId ? a.seg.index - b.seg.index : a.seg.chainId < b.seg.chainId ? -1 : 1;
      if (a.seg || b.seg) return a.seg ? -1 : 1;
      return a.i - b.i;
    })
    .map((x) => x.file);
}

/**
 * The paths to give `verify`: each once, and a file dropped when a directory also given holds it
 * (verify would otherwise see its records twice and report duplicates that are not in the evidence).
 */
export function verifyInputs(paths: readonly string[]): string[] {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const dirs = new Set(paths.filter((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory()).map(real));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of paths) {
    const r = real(p);
    if (seen.has(r)) continue;
    seen.add(r);
    if (!dirs.has(r) && dirs.has(real(dirname(p)))) continue;
    out.push(p);
  }
  return out;
}
