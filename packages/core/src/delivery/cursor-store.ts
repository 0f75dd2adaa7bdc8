import { readFileSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Where a 'records' sink is: the next unread byte of the current segment and of the chain's
 * checkpoint file. Chains are delivered one after the other (chain ids are UUIDv7: they sort by time).
 */
export interface RecordsCursor {
  readonly type: 'records';
  /** Chain being read; null before the first record. */
  readonly chain: string | null;
  /** Segment number within the chain, and the byte offset after its last accepted line. */
  readonly segment: number;
  readonly offset: number;
  /** Byte offset after the last accepted line of the chain's checkpoint file, and how many lines that is. */
  readonly checkpointOffset: number;
  readonly checkpointLines: number;
}

/** Where a 'files' sink is: the last sealed segment accepted, and the last checkpoint snapshot. */
export interface FilesCursor {
  readonly type: 'files';
  readonly chain: string | null;
  /** Number of the last accepted segment of the chain (0: none yet). */
  readonly segment: number;
  /** Size of the last accepted checkpoint snapshot, and the segment number delivered when it was taken. */
  readonly checkpointBytes: number;
  readonly checkpointSegment: number;
}

export type Cursor = RecordsCursor | FilesCursor;

export const CURSOR_DIR = '.cursors';
const CURSOR_SCHEMA = 'querytrail.cursor/1';

export function initialCursor(type: 'records' | 'files'): Cursor {
  return type === 'records'
    ? { type, chain: null, segment: 0, offset: 0, checkpointOffset: 0, checkpointLines: 0 }
    : { type, chain: null, segment: 0, checkpointBytes: 0, checkpointSegment: 0 };
}

/** One sink's durable position: `<dir>/.cursors/<sink>.json`, replaced atomically (tmp, fsync, rename). */
export class CursorStore {
  readonly path: string;
  private readonly dir: string;

  constructor(journalDir: string, sinkName: string) {
    this.dir = join(journalDir, CURSOR_DIR);
    this.path = join(this.dir, `${sinkName}.json`);
  }

  /** The saved cursor, or the start of the journal if there is none. Throws ConfigError naming the file if it is damaged. */
  load(type: 'records' | 'files'): Cursor {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return initialCursor(type);
      throw new ConfigError(this.path, `cannot read the delivery cursor: ${String(err)}`, { cause: err });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw this.invalid('not JSON', err);
    }
    return this.validate(raw, type);
  }

  async save(cursor: Cursor): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(`${JSON.stringify({ schema: CURSOR_SCHEMA, ...cursor })}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    // The rename is durable only once the directory entry is: fsync the directory too.
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  private invalid(why: string, cause?: unknown): ConfigError {
    return new ConfigError(
      this.path,
      `not a valid querytrail delivery cursor (${why}). Delete the file to redeliver this sink from the start of the journal (receivers dedup by event_id).`,
      cause === undefined ? undefined : { cause },
    );
  }

  private validate(raw: unknown, type: 'records' | 'files'): Cursor {
    if (typeof raw !== 'object' || raw === null) throw this.invalid('expected an object');
    const o = raw as Record<string, unknown>;
    if (o.schema !== CURSOR_SCHEMA) throw this.invalid(`schema is ${JSON.stringify(o.schema)}, expected ${CURSOR_SCHEMA}`);
    if (o.type !== type) throw this.invalid(`written for a '${String(o.type)}' sink, but this sink accepts '${type}'`);
    if (o.chain !== null && !(typeof o.chain === 'string' && /^[0-9a-f-]{36}$/.test(o.chain))) throw this.invalid('chain is not a chain id');
    const ints = type === 'records' ? ['segment', 'offset', 'checkpointOffset', 'checkpointLines'] : ['segment', 'checkpointBytes', 'checkpointSegment'];
    for (const k of ints) {
      if (!(Number.isSafeInteger(o[k]) && (o[k] as number) >= 0)) throw this.invalid(`${k} is not a whole number`);
    }
    const c = Object.fromEntries(['type', 'chain', ...ints].map((k) => [k, o[k]]));
    return c as unknown as Cursor;
  }
}
