import type { Cursor } from './cursor-store.js';

/** What a sink has not accepted yet, read from the journal, and the cursor once all of it is. */
export interface PendingBatch<E> {
  readonly entries: readonly E[];
  readonly after: Cursor;
}

/** Reads the journal for one sink from its cursor. `next()` is called again only after `commit()`. */
export interface DeliverySource<E> {
  /** The next entries after the committed cursor, or undefined when the sink is caught up. */
  next(): Promise<PendingBatch<E> | undefined>;
  /** Everything up to `after` was accepted: advance and persist the cursor. */
  commit(after: Cursor): Promise<void>;
}

export interface BatchLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}
