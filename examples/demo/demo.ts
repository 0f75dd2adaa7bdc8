/**
 * querytrail demo: a small app flow as two actors in concurrent requests, audited into a
 * hash-chained journal. Runs on an embedded PostgreSQL unless DATABASE_URL names a server.
 *
 *   npm run demo                                  # embedded PGlite, nothing to install
 *   DATABASE_URL=postgres://postgres@127.0.0.1/test npm run demo
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import pg from 'pg';
import { createSchema, runAppFlow } from './app-flow.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const journalDir = resolve(process.env.QUERYTRAIL_DEMO_DIR ?? '.demo-audit');
let lastChain: string | undefined;

async function main(): Promise<void> {
  const external = process.env.DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres();
  const connectionString = external ?? embedded!.connectionString;

  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'querytrail-demo', env: 'dev' },
    journal: { dir: journalDir },
    onEvent: (e) => events.push(e),
  });
  lastChain = auditor.journal?.chainId;
  const pool = auditor.instrumentPg(new pg.Pool({ connectionString, max: 2 }));
  try {
    await createSchema(auditor, pool);
    await runAppFlow(auditor, pool);
  } finally {
    await pool.end();
    // pg-pool resolves end() before its clients' sockets have closed: let their db.disconnect events in.
    await until(() => count(events, 'db.disconnect') >= count(events, 'db.connect'), 2000);
    await auditor.close();
    await embedded?.stop();
  }
  printSummary(readJournal(journalDir), external ? 'DATABASE_URL' : 'embedded PostgreSQL (PGlite over pglite-socket)');
}

function count(events: QuerytrailEvent[], type: QuerytrailEvent['type']): number {
  return events.filter((e) => e.type === type).length;
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** The summary is read back from the journal itself: what is on disk is what counts. */
function readJournal(dir: string): QuerytrailEvent[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl') && !f.includes('.checkpoints.'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as QuerytrailEvent)
    .filter((e) => e.integrity?.chain_id === lastChain);
}

function tally<K extends string>(items: K[]): string {
  const m = new Map<K, number>();
  for (const k of items) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
}

function printSummary(events: QuerytrailEvent[], where: string): void {
  const queries = events.filter((e) => e.type === 'db.query');
  const lines = [
    `querytrail demo on ${where}`,
    `events written this run: ${events.length} (${tally(events.map((e) => e.type))})`,
    'statements per actor:',
    ...[...new Set(queries.map((e) => `${e.actor?.type}:${e.actor?.id}`))].map((who) => {
      const mine = queries.filter((e) => `${e.actor?.type}:${e.actor?.id}` === who);
      const failed = mine.filter((e) => e.result?.outcome === 'failure').length;
      return `  ${who.padEnd(28)} ${mine.length} statements${failed ? `, ${failed} failed` : ''}`;
    }),
    `statements by kind: ${tally(queries.map((e) => e.statement?.class ?? 'unknown'))}`,
  ];
  const report = verifyJournal(journalDir);
  lines.push(
    `verify: ${report.ok ? 'valid' : 'INVALID'} (${report.chains.length} chain(s), ${report.records} records) — check it yourself: npx querytrail verify ${journalDir}`,
  );
  lines.push(`journal: ${journalDir}`);
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  console.error('demo failed:', err);
  process.exitCode = 1;
});
