import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuditor, definePolicy, type Auditor, type QuerytrailEvent } from '@querytrail/core';
import { loadAnalyzers } from '../../core/src/analysis/index.js';
import { validatingListener } from '../../core/test/support/valid-events.js';

await loadAnalyzers();

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

/**
 * `prisma generate` for a fixture schema (client output: packages/prisma-ext/.generated/<name>).
 * The schema engine cannot be downloaded here and generate does not need it: any executable will do.
 */
export function generate(schema: 'postgres' | 'mariadb'): void {
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(here, 'fixtures', `${schema}.prisma`)], {
    cwd: root,
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    stdio: 'pipe',
  });
}

/** A change window that is never open now: destructive statements are blocked. */
export const neverOpen = { id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-01T01:00:00Z' };

export interface Harness {
  auditor: Auditor;
  events: QuerytrailEvent[];
  queries(): QuerytrailEvent[];
}

export function harness(): Harness {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'prisma-test' },
    journal: false,
    catalog: { mode: false },
    policy: definePolicy({ version: 1, mode: 'enforce', windows: [neverOpen] }),
    onEvent: validatingListener((e) => events.push(e)),
  });
  return { auditor, events, queries: () => events.filter((e) => e.type === 'db.query') };
}

export const actor = (id: string) => ({ actor: { type: 'human' as const, id }, request: { id: `req-${id}` } });
