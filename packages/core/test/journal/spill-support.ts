// Helpers of the spill tests (spill*.test.ts): reading a journal directory as the verifier does, and
// statements whose order can be read back from the journal.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Auditor, listSegments, type QuerytrailEvent } from '@querytrail/core';

export interface JournalLine {
  file: string;
  line: string;
  rec: QuerytrailEvent;
}

/** Every complete line of every segment, in chain order (chains by age, segments by number). */
export function readJournal(dir: string): JournalLine[] {
  const out: JournalLine[] = [];
  for (const { file } of listSegments(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    const end = text.lastIndexOf('\n');
    for (const line of text.slice(0, end + 1).split('\n')) if (line) out.push({ file, line, rec: JSON.parse(line) as QuerytrailEvent });
  }
  return out;
}

export const DB = Object.freeze({ system: 'postgresql' as const, driver: 'pg', namespace: 'test' });
export const MARKER_SQL = 'SELECT * FROM t WHERE id = $1';

/** A statement begun and finished at once; with params: { mode: 'raw' } its record carries `marker`. */
export function markedQuery(auditor: Auditor, marker: number): void {
  auditor.begin({ text: MARKER_SQL, params: [marker], db: DB }).succeed({ rowsReturned: 1 });
}

/** The markers of the db.query records, in journal order. */
export function markers(lines: JournalLine[]): number[] {
  return lines.filter((l) => l.rec.type === 'db.query' && l.rec.statement?.text === MARKER_SQL).map((l) => Number(l.rec.statement!.params!.values![0]));
}

export function spillDir(dir: string): string {
  return join(dir, '.spill');
}

/** The spill files (not the set-aside .torn ones) under <dir>/.spill, if any. */
export function spillFiles(dir: string): string[] {
  const d = spillDir(dir);
  return existsSync(d) ? readdirSync(d).filter((f) => f.endsWith('.spill')) : [];
}

/** Polls `check` on every turn of the event loop (and then every millisecond) until it holds. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (let turns = 0; !check(); turns++) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    if (turns < 1000) await new Promise<void>((r) => setImmediate(r));
    else await sleep(1);
  }
}

/** Asserts-friendly: true when every item is larger than the one before. */
export function strictlyIncreasing(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v > values[i - 1]!);
}
