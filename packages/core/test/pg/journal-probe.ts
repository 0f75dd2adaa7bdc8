// Driver-neutral helpers for the sync-delivery tests (pg and mysql2 both use them).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QuerytrailEvent, StatementHandle, StatementRecorder } from '@querytrail/core';
import type { Auditor } from '../../src/auditor/auditor.js';

/** Every complete record in the journal segments of `dir`, read synchronously. */
export function readJournal(dir: string): QuerytrailEvent[] {
  const out: QuerytrailEvent[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        out.push(JSON.parse(line) as QuerytrailEvent);
      } catch {
        // a line still being written
      }
    }
  }
  return out;
}

export function attemptsWith(records: QuerytrailEvent[], marker: string): QuerytrailEvent[] {
  return records.filter((r) => r.type === 'db.query.attempt' && (r.statement?.text ?? '').includes(marker));
}

/** What was true when a marker's statement first reached the socket. */
export interface Sighting {
  /** Its db.query.attempt line was already in a journal segment file. */
  inFile: boolean;
  /** The journal had already resolved its appendDurable promise (i.e. after fdatasync). */
  durable: boolean;
}

/**
 * Watches the bytes a driver writes to its socket. The first time a marker appears in a write (the
 * Query / Parse / COM_QUERY / COM_STMT_PREPARE packet carrying the statement text), it notes whether
 * the marker's attempt record is already in the journal files (read synchronously, right there) and
 * whether the journal had already confirmed it durable.
 *
 * Why this can fail: the journal writes only in a later turn of the event loop (setImmediate after
 * appendDurable), so a wrapper that sent at once would put the packet on the socket before the line is
 * in any file, and before the durable promise resolved; see the control test with a recorder that
 * hides `ready`. The server cannot execute a statement whose bytes have not left the process, so
 * "attempt on disk before the packet is written" implies "attempt on disk before the server runs it".
 */
export class SocketProbe {
  readonly seen = new Map<string, Sighting>();
  private readonly durableMarkers = new Set<string>();

  constructor(
    private readonly dir: string,
    /** Global regex matching the markers, e.g. /qtm_[0-9a-f]+_\d+/g. */
    private readonly pattern: RegExp,
  ) {}

  /** Notes when each attempt carrying a marker is confirmed durable (the promise the handle's ready is). */
  observe(auditor: Auditor): void {
    const journal = auditor.journal as unknown as { appendDurable(e: QuerytrailEvent): Promise<void> };
    const original = journal.appendDurable;
    const markers = this.durableMarkers;
    const pattern = this.pattern;
    journal.appendDurable = function (this: unknown, event: QuerytrailEvent): Promise<void> {
      const written = original.call(this, event);
      // Registered before the capture's and the driver's reactions, so it runs first on resolution.
      written.then(
        () => {
          // The auditor hands the journal a record (journal/record.ts) rather than a built event.
          const e = typeof (event as { toEvent?: unknown }).toEvent === 'function' ? (event as unknown as { toEvent(): QuerytrailEvent }).toEvent() : event;
          for (const m of (e.statement?.text ?? '').match(pattern) ?? []) markers.add(m);
        },
        () => {},
      );
      return written;
    };
  }

  watch(socket: unknown): void {
    const s = socket as { write: (...args: unknown[]) => boolean };
    const original = s.write;
    const probe = this;
    s.write = function (this: unknown, ...args: unknown[]): boolean {
      probe.inspect(args[0]);
      return original.apply(this, args);
    };
  }

  private inspect(chunk: unknown): void {
    let text = '';
    if (typeof chunk === 'string') text = chunk;
    else if (chunk instanceof Uint8Array) text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    const found = text.match(this.pattern);
    if (!found) return;
    let records: QuerytrailEvent[] | undefined;
    for (const m of found) {
      if (this.seen.has(m)) continue;
      records ??= readJournal(this.dir);
      this.seen.set(m, { inFile: attemptsWith(records, m).length > 0, durable: this.durableMarkers.has(m) });
    }
  }
}

/** A recorder over `auditor` that hides `ready`: sends at once (the control that must be caught). */
export function impatient(auditor: Auditor): StatementRecorder {
  return {
    begin(start) {
      const h = auditor.begin(start);
      const handle: StatementHandle = {
        ready: undefined,
        addRows: (n) => h.addRows(n),
        succeed: (o) => h.succeed(o),
        fail: (e, c) => h.fail(e, c),
      };
      return handle;
    },
    connection: (type, db) => auditor.connection(type, db),
  };
}

/** A stand-in journal file whose writes fail (as root, permissions cannot make a write fail). */
export function breakJournal(auditor: Auditor): () => void {
  const journal = auditor.journal as unknown as { file: unknown; onError: (e: Error) => void };
  const real = journal.file;
  const onError = journal.onError;
  journal.onError = () => {};
  journal.file = {
    write: () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
    datasync: async () => {},
    sync: async () => {},
    close: async () => {},
  };
  return () => {
    journal.file = real;
    journal.onError = onError;
  };
}
