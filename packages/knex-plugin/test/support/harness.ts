import { type Actor, createAuditor, definePolicy, loadAnalyzers, type QuerytrailEvent } from '@querytrail/core';
import { validatingListener } from '../../../core/test/support/valid-events.js';
import { closedWindowPolicy } from './dbs.js';

// Statements are analysed as they are sent once the parsers are loaded; load them before any test runs.
await loadAnalyzers();

export const alice: Actor = Object.freeze({ type: 'human', id: 'alice' });
export const bob: Actor = Object.freeze({ type: 'human', id: 'bob' });

export interface Harness {
  auditor: ReturnType<typeof createAuditor>;
  events: QuerytrailEvent[];
  /** db.query events whose text contains `marker`, in emission order. */
  queries(marker: string): QuerytrailEvent[];
  blocked(marker: string): QuerytrailEvent[];
  /** db.query events of one connection, in order. */
  onConnection(id: string): QuerytrailEvent[];
  clear(): void;
}

/** An in-memory auditor (raw params, no catalog reads) enforcing the closed-window policy; every event schema-checked. */
export function harness(): Harness {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'knex-test', env: 'test' },
    journal: false,
    params: { mode: 'raw' },
    catalog: { mode: false },
    policy: definePolicy(closedWindowPolicy),
    onEvent: validatingListener((e) => events.push(e)),
  });
  const text = (e: QuerytrailEvent) => e.statement?.text ?? '';
  return {
    auditor,
    events,
    queries: (marker) => events.filter((e) => e.type === 'db.query' && text(e).includes(marker)),
    blocked: (marker) => events.filter((e) => e.type === 'db.query.blocked' && text(e).includes(marker)),
    onConnection: (id) => events.filter((e) => e.type === 'db.query' && e.db?.connection_id === id),
    clear: () => {
      events.length = 0;
    },
  };
}

/** Lets the last completion callbacks run, so every event of a finished statement is emitted. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
