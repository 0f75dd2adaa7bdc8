/**
 * Analysis benchmark: cold analysis (distinct texts, so the cache cannot help) of a ~600-character
 * ORM SELECT with 3 joins, per dialect, and a cache hit. Prints one JSON object.
 * It measures the built package, as an application gets it (run `npm run build` first):
 *   node --import tsx packages/core/bench/analysis.bench.ts
 */
import { createAnalyzer, createCatalog, type Dialect, loadAnalyzers } from '@querytrail/core';

const columns = {
  users: ['id', 'email', 'name', 'ssn', 'password_hash', 'created_at', 'org_id'],
  orders: ['id', 'user_id', 'total', 'status', 'created_at'],
  order_items: ['id', 'order_id', 'product_id', 'qty', 'price'],
  products: ['id', 'name', 'price', 'sku'],
};

function ormSelect(d: Dialect, i: number): string {
  const q = (s: string): string => (d === 'postgres' ? `"${s}"` : `\`${s}\``);
  const p = (n: number): string => (d === 'postgres' ? `$${n}` : '?');
  const sel = ['u.id', 'u.email', 'u.name', 'u.created_at', 'u.org_id', 'o.id', 'o.created_at', 'o.user_id', 'o.total', 'o.status', 'oi.id', 'oi.qty', 'oi.price', 'oi.product_id', 'p.id', 'p.name', 'p.price', 'p.sku']
    .map((c) => c.split('.').map(q).join('.'))
    .join(', ');
  return (
    `SELECT ${sel} FROM ${q('shop')}.${q('users')} AS ${q('u')} ` +
    `INNER JOIN ${q('shop')}.${q('orders')} AS ${q('o')} ON ${q('o')}.${q('user_id')} = ${q('u')}.${q('id')} ` +
    `INNER JOIN ${q('shop')}.${q('order_items')} AS ${q('oi')} ON ${q('oi')}.${q('order_id')} = ${q('o')}.${q('id')} ` +
    `LEFT JOIN ${q('shop')}.${q('products')} AS ${q('p')} ON ${q('p')}.${q('id')} = ${q('oi')}.${q('product_id')} ` +
    `WHERE ${q('u')}.${q('org_id')} = ${p(1)} AND ${q('o')}.${q('status')} IN (${p(2)}, ${p(3)}) AND ${q('o')}.${q('total')} > ${i} ` +
    `ORDER BY ${q('o')}.${q('created_at')} DESC LIMIT ${p(4)} OFFSET ${p(5)}`
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.95)]!;
}
const us = (ms: number): number => Math.round(ms * 1000 * 10) / 10;

await loadAnalyzers();
const results: Record<string, unknown> = { node: process.version };
for (const d of ['postgres', 'mysql'] as const) {
  const catalog = createCatalog(d, { shop: columns }, { searchPath: ['shop'] });
  const an = createAnalyzer({ cacheSize: 100 });
  const warm = 500;
  const n = 5000;
  const times: number[] = [];
  for (let i = 0; i < warm + n; i++) {
    const sql = ormSelect(d, i);
    const t0 = performance.now();
    const a = an.analyze(sql, { dialect: d, catalog });
    const t = performance.now() - t0;
    if (a.kind !== 'read') throw new Error(`unexpected kind ${a.kind}: ${a.reasons.join('; ')}`);
    if (i >= warm) times.push(t);
  }
  // Cache hit: the same string object again and again, timed in batches (timer resolution).
  const sql = ormSelect(d, 1);
  const opts = { dialect: d, catalog };
  an.analyze(sql, opts);
  const batches: number[] = [];
  for (let b = 0; b < 200; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) an.analyze(sql, opts);
    batches.push((performance.now() - t0) / 1000);
  }
  results[d] = {
    sqlLength: sql.length,
    coldMedianUs: us(median(times)),
    coldP95Us: us(p95(times)),
    cacheHitMedianUs: Math.round(median(batches) * 1000 * 1000) / 1000,
    samples: n,
  };
}
console.log(JSON.stringify(results, null, 2));
