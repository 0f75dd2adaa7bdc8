import { randomBytes } from 'node:crypto';
import { createAuditor, QueryBlockedError, type Auditor, type QuerytrailEvent } from '@querytrail/core';
import { kStatementGate } from '../../src/auditor/auditor.js';
import { loadAnalyzers } from '../../src/analysis/index.js';
import { validatingListener } from '../support/valid-events.js';

// Statements are analysed as they are sent once the parsers are loaded; load them before any test runs.
await loadAnalyzers();

export const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' } as const;

export interface Harness {
  auditor: Auditor;
  events: QuerytrailEvent[];
  /** db.query events whose text matches. */
  queries(match: RegExp | string): QuerytrailEvent[];
  ofType(type: QuerytrailEvent['type']): QuerytrailEvent[];
  clear(): void;
}

/** An auditor in memory with raw params; statements whose text contains "forbidden" are blocked. */
export function harness(): Harness {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'test' },
    journal: false,
    params: { mode: 'raw' },
    // Driver tests count statements exactly; catalog introspection is tested in test/catalog.
    catalog: { mode: false },
    onEvent: validatingListener((e) => events.push(e)),
  });
  auditor[kStatementGate] = (start) => {
    if (/forbidden/.test(start.text ?? '')) throw new QueryBlockedError('test');
  };
  return {
    auditor,
    events,
    queries(match) {
      return events.filter(
        (e) =>
          e.type === 'db.query' &&
          (typeof match === 'string' ? e.statement?.text === match : match.test(e.statement?.text ?? '')),
      );
    },
    ofType(type) {
      return events.filter((e) => e.type === type);
    },
    clear() {
      events.length = 0;
    },
  };
}

export function tableName(): string {
  return `qt_my_${randomBytes(5).toString('hex')}`;
}

/** Polls until `check` holds (events that follow a socket close arrive a little later). */
export async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('waitFor: timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}
