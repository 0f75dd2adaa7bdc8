/**
 * querytrail + TypeORM: two actors work through a TypeORM DataSource at the same time; every statement
 * TypeORM sends is recorded once, with the actor, the entity and the operation, and a DELETE without
 * WHERE outside a change window is refused as a TypeORM QueryFailedError.
 *
 *   npx tsx examples/typeorm/main.ts                                  # embedded PGlite, nothing to install
 *   DATABASE_URL=postgres://postgres@127.0.0.1/test npx tsx examples/typeorm/main.ts
 */
import { resolve } from 'node:path';
import { createAuditor, type PolicyInput, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import { instrumentTypeorm } from '@querytrail/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { startEmbeddedPostgres } from '../demo/embedded-postgres.js';
import { Customer, CustomerSchema, Order, OrderSchema } from './entities.js';

const journalDir = resolve(process.env.QUERYTRAIL_EXAMPLE_DIR ?? '.typeorm-audit');

// Destructive statements only inside the Saturday-night window, except for migrations.
const policy: PolicyInput = {
  version: 1,
  mode: 'enforce',
  windows: [{ id: 'sat-night', days: ['sat'], start: '22:00', end: '23:00', timezone: 'UTC' }],
  destructive: { windows: ['sat-night'], approvals: false, breakGlass: false, except: { source: 'migration' } },
};

async function main(): Promise<void> {
  const external = process.env.DATABASE_URL;
  const embedded = external ? undefined : await startEmbeddedPostgres();
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'typeorm-example', env: 'dev' },
    journal: { dir: journalDir },
    policy,
    onEvent: (e) => events.push(e),
  });
  const ds = instrumentTypeorm(
    new DataSource({
      type: 'postgres',
      url: external ?? embedded!.connectionString,
      entities: [CustomerSchema, OrderSchema],
      poolSize: external ? 4 : 1,
    }),
    auditor,
    { policy }, // the same policy: refusals come from TypeORM's beforeQuery, naming the entity
  );
  try {
    // Schema changes run as a migration: the policy lets DDL through for source 'migration'.
    await auditor.runWithContext({ actor: { type: 'system', id: 'deploy' }, source: 'migration' }, async () => {
      await ds.initialize();
      await ds.synchronize();
    });
    await Promise.all([
      auditor.runWithContext({ actor: { type: 'human', id: 'alice' }, request: { id: 'req-1' } }, () => shop(ds, 'alice')),
      auditor.runWithContext({ actor: { type: 'human', id: 'bob' }, request: { id: 'req-2' } }, () => shop(ds, 'bob')),
    ]);
    await auditor.runWithContext({ actor: { type: 'human', id: 'mallory' } }, async () => {
      try {
        await ds.getRepository(Order).createQueryBuilder().delete().execute(); // every order, no WHERE
      } catch (err) {
        if (!(err instanceof QueryFailedError)) throw err;
        console.log(`\nrefused: ${err.constructor.name} (${(err as QueryFailedError & { code?: string }).code})\n  ${err.message}\n`);
      }
    });
  } finally {
    if (ds.isInitialized) await ds.destroy();
    // pg-pool resolves end() before its clients' sockets have closed: let their db.disconnect events in.
    await until(() => count(events, 'db.disconnect') >= count(events, 'db.connect'), 2000);
    await auditor.close();
    await embedded?.stop();
  }
  print(events);
}

async function shop(ds: DataSource, who: string): Promise<void> {
  const customers = ds.getRepository(Customer);
  const c = await customers.save(Object.assign(new Customer(), { fullName: `${who} example`, email: `${who}@example.com` }));
  await ds.transaction(async (m) => {
    await m.save(Object.assign(new Order(), { total: 42, customer: c }));
    await m.increment(Order, { customer: { id: c.id } }, 'total', 1);
  });
  await customers.find({ where: { id: c.id }, relations: { orders: true } });
  await ds.query('SELECT count(*) AS n FROM orders WHERE customer_id = $1', [c.id]);
}

function count(events: QuerytrailEvent[], type: QuerytrailEvent['type']): number {
  return events.filter((e) => e.type === type).length;
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

function print(events: QuerytrailEvent[]): void {
  const statements = events.filter((e) => e.type === 'db.query' || e.type === 'db.query.blocked');
  console.log('recorded statements (actor · entity.operation · statement):');
  for (const e of statements) {
    const who = e.actor ? `${e.actor.type}:${e.actor.id}` : '-';
    const what = e.orm ? `${e.orm.model ?? '-'}.${e.orm.operation ?? '-'}` : '-';
    const flag = e.type === 'db.query.blocked' ? '  BLOCKED' : '';
    console.log(`  ${who.padEnd(16)} ${what.padEnd(22)} ${e.statement?.summary ?? e.statement?.command}${flag}`);
  }
  const mapped = statements.find((e) => e.orm?.properties?.fullName);
  if (mapped) console.log(`\nproperty → column, from the entity metadata: ${JSON.stringify(mapped.orm?.properties)}`);
  console.log(`\n${statements.length} statements, ${events.length} events; journal: ${journalDir}`);
  const report = verifyJournal(journalDir);
  console.log(`verify: ${report.ok ? 'valid' : 'INVALID'} (${report.records} records) — check it yourself: npx querytrail verify ${journalDir}`);
}

await main();
