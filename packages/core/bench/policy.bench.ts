/**
 * Policy benchmark: decide() on an already analysed (cached) statement, with a realistic policy
 * (sensitive patterns with wildcards, windows in two zones, scoped rules, bulk thresholds).
 * Prints one JSON object: ns per decision, median of 7 runs, per statement shape.
 *   node --import tsx packages/core/bench/policy.bench.ts
 */
// The built package, as an application gets it (run `npm run build` first; tsx's keepNames wrappers
// would otherwise be measured too).
import { type AuditContext, analyze, createCatalog, type DbInfo, definePolicy, loadAnalyzers } from '@querytrail/core';

await loadAnalyzers();

const catalog = createCatalog('postgres', {
  public: {
    users: ['id', 'email', 'name', 'ssn', 'password_hash', 'created_at', 'org_id'],
    orders: ['id', 'user_id', 'total', 'status', 'card_number', 'created_at'],
    order_items: ['id', 'order_id', 'product_id', 'qty', 'price'],
    products: ['id', 'name', 'price', 'sku'],
  },
});

const policy = definePolicy({
  sensitive: [
    { id: 'pii', category: 'pii', columns: ['public.users.email', 'public.users.name', 'public.users.ssn'], tags: ['gdpr'] },
    { id: 'pci', category: 'pci', columns: '*.orders.card_*' },
    { id: 'secret', category: 'secret', columns: '*.*.password*' },
    { id: 'phi', category: 'phi', columns: ['*.patients.*', 'public.visits.diagnosis'] },
  ],
  windows: [
    { id: 'sat-night', days: ['sat'], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' },
    { id: 'ny-weekday', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '20:00', end: '21:00', timezone: 'America/New_York' },
    { id: 'release', from: '2026-04-01T20:00:00Z', to: '2026-04-01T23:00:00Z' },
  ],
  destructive: { except: { source: 'migration', env: 'dev' } },
  rules: [
    { id: 'workstation-pii', match: { sensitive: ['pii', 'pci'] }, scope: { source: 'workstation' }, action: 'alert' },
    { id: 'dev-no-ddl', match: { kinds: 'ddl' }, scope: { role: 'developer', env: 'prod' }, action: 'block' },
    { id: 'billing-ro', match: { kinds: 'write' }, scope: { schema: 'billing' }, action: 'block' },
    { id: 'bots-ro', match: { kinds: ['write', 'ddl'] }, scope: { actor: 'bot-*' }, action: 'block' },
  ],
  bulk: { perStatement: { alert: 1000, block: 10000 }, perActor: { windowSeconds: 900, alert: 5000, block: 50000 } },
});

const ctx: AuditContext = { actor: { type: 'human', id: 'u42', roles: ['support'] }, request: { id: 'r1' }, source: 'app' };
const db: DbInfo = { system: 'postgresql', driver: 'pg', namespace: 'app' };
const now = Date.parse('2026-04-01T12:00:00Z');

const shapes = {
  plain_select: 'SELECT p.id, p.name, p.price FROM products p WHERE p.sku = $1',
  sensitive_join:
    'SELECT u.id, u.email, u.name, o.id, o.total, o.card_number FROM users u JOIN orders o ON o.user_id = u.id JOIN order_items oi ON oi.order_id = o.id WHERE u.org_id = $1 LIMIT $2',
  select_star: 'SELECT * FROM users WHERE id = $1',
  destructive_blocked: 'DELETE FROM orders',
  update_where: 'UPDATE orders SET status = $1 WHERE id = $2',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const N = 200_000;
const out: Record<string, { ns_per_decision: number; action: string }> = {};
let sink = 0;
for (const [name, sql] of Object.entries(shapes)) {
  const analysis = analyze(sql, { dialect: 'postgres', catalog });
  const input = { analysis, context: ctx, db, service: { env: 'prod' }, now, paramCount: 2 };
  for (let i = 0; i < 20_000; i++) sink += policy.decide(input).alerts.length; // warm-up (and the per-analysis facts)
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) sink += policy.decide(input).alerts.length;
    runs.push(Number(process.hrtime.bigint() - t0) / N);
  }
  out[name] = { ns_per_decision: Math.round(median(runs)), action: policy.decide(input).action };
}
console.log(JSON.stringify({ node: process.version, iterations: N, runs: 7, results: out, sink: sink > 0 }, null, 2));
