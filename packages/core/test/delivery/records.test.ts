import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { createDelivery, type SinkRecord } from '@querytrail/core';
import { loadAnalyzers } from '../../src/analysis/index.js';
import { tempDir } from '../support/temp-dir.js';
import {
  assertAllArrived,
  assertVerifiedCopy,
  eventually,
  journalAuditor,
  MemorySink,
  reassembleRecords,
  recordStatements,
  testKey,
} from './harness.js';

await loadAnalyzers();
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
const TABLE = `qt_delivery_${process.pid}`;

function recordsOf(sink: MemorySink): SinkRecord[] {
  return sink.records;
}

test('a sink that is down for a while loses nothing: statements through real pg, every record arrives and verifies', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  const down = Date.now() + 400;
  const sink = new MemorySink('archive', {
    behaviour: () => {
      if (Date.now() < down) throw new Error('connection refused');
      return {};
    },
  });
  const warnings: Error[] = [];
  const auditor = journalAuditor(dir, key, {
    sinks: [sink],
    delivery: { pollIntervalMs: 20, backoff: { initialMs: 5, maxMs: 80 }, onError: (e) => warnings.push(e) },
  });
  await auditor.sinksReady();
  const pool = auditor.instrumentPg(new pg.Pool(PG));
  try {
    await pool.query(`CREATE TABLE ${TABLE} (id int primary key, n int)`);
    for (let i = 0; i < 60; i++) await pool.query(`INSERT INTO ${TABLE} (id, n) VALUES ($1, $2)`, [i, i]);
    await pool.query(`UPDATE ${TABLE} SET n = n + 1`);
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    await pool.end();
  }
  await auditor.close();
  assert.ok(sink.calls.length > 1 && warnings.length > 0, 'the first writes failed and were reported');
  assert.match(warnings[0]!.message, /querytrail sink "archive": write of \d+ entries failed/);
  const byId = assertAllArrived(dir, recordsOf(sink));
  const texts = [...byId.values()].filter((r) => r.kind === 'event').map((r) => JSON.parse(r.line) as { statement?: { text?: string } });
  assert.equal(texts.filter((e) => e.statement?.text?.startsWith(`INSERT INTO ${TABLE}`)).length, 60);
  assertVerifiedCopy(dir, reassembleRecords(byId.values(), tempDir('qt-deliv-copy-')), key);
  assert.equal(sink.flushed, 1);
  assert.equal(sink.closed, 1);
});

test('the cursor survives a restart: a new auditor on the same directory resumes after the last accepted batch', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  // First run: the sink accepts 3 batches of 10, then dies for good.
  const first = new MemorySink('remote', { maxBatch: 10, behaviour: (call) => {
    if (call > 3) throw new Error('gone');
    return {};
  } });
  const a1 = journalAuditor(dir, key, { sinks: [first], delivery: { pollIntervalMs: 20, backoff: { initialMs: 5, maxMs: 40 }, onError: () => {}, closeTimeoutMs: 300 } });
  await recordStatements(a1, 120, 'one');
  await a1.close();
  assert.equal(first.records.length, 30);
  const cursor = JSON.parse(readFileSync(join(dir, '.cursors', 'remote.json'), 'utf8')) as { offset: number; type: string };
  assert.equal(cursor.type, 'records');
  assert.ok(cursor.offset > 0);

  // Second run, same sink name, healthy: picks up at the cursor, then the new chain.
  const second = new MemorySink('remote');
  const a2 = journalAuditor(dir, key, { sinks: [second] });
  await recordStatements(a2, 30, 'two');
  await a2.close();
  const firstIds = new Set(first.records.map((r) => r.dedupId));
  const resent = second.records.filter((r) => firstIds.has(r.dedupId));
  assert.equal(resent.length, 0, 'accepted batches are behind the cursor and not sent again');
  assertAllArrived(dir, [...first.records, ...second.records]);
  assertVerifiedCopy(dir, reassembleRecords([...first.records, ...second.records], tempDir('qt-deliv-copy-')), key);
});

test('partial failures resend only the failed entries, and the cursor never passes them', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  const attempts = new Map<string, number>();
  const sink = new MemorySink('partial', {
    maxBatch: 20,
    behaviour: (_call, batch) => {
      assert.equal(batch.type, 'records');
      const failed: number[] = [];
      batch.records.forEach((r, i) => {
        const n = (attempts.get(r.dedupId) ?? 0) + 1;
        attempts.set(r.dedupId, n);
        // Every third record fails twice before it is accepted.
        if (Number.parseInt(r.dedupId.slice(-2), 16) % 3 === 0 && n <= 2) failed.push(i);
      });
      return { failed };
    },
  });
  const auditor = journalAuditor(dir, key, { sinks: [sink], delivery: { pollIntervalMs: 20, backoff: { initialMs: 2, maxMs: 20 }, onError: () => {} } });
  await recordStatements(auditor, 150);
  await auditor.close();
  assertAllArrived(dir, sink.records);
  assert.equal(sink.records.length, new Set(sink.records.map((r) => r.dedupId)).size, 'no accepted record was sent again');
  const retried = [...attempts.values()].filter((n) => n === 3).length;
  assert.ok(retried > 10, `${retried} records needed retries`);
  assert.ok(Math.max(...attempts.values()) === 3, 'a record is sent again only while it fails');
  // Resend batches hold exactly the entries that failed in the previous call.
  for (let i = 1; i < sink.calls.length; i++) {
    const prev = sink.calls[i - 1]!.batch;
    const cur = sink.calls[i]!.batch;
    if (prev.type !== 'records' || cur.type !== 'records') continue;
    const prevFailedIds = prev.records.filter((r) => attempts.get(r.dedupId)! > 1 && cur.records.some((c) => c.dedupId === r.dedupId)).map((r) => r.dedupId);
    if (prevFailedIds.length > 0) assert.deepEqual(cur.records.map((r) => r.dedupId), prevFailedIds);
  }
  assertVerifiedCopy(dir, reassembleRecords(sink.records, tempDir('qt-deliv-copy-')), key);
});

test('retryAfterMs is honoured, from a result and from a thrown throttling error', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  const sink = new MemorySink('throttled', {
    behaviour: (call) => {
      if (call === 1) return { failed: [0], retryAfterMs: 300 };
      if (call === 2) throw Object.assign(new Error('SlowDown'), { retryAfterMs: 250 });
      return {};
    },
  });
  const auditor = journalAuditor(dir, key, { sinks: [sink], delivery: { pollIntervalMs: 10, backoff: { initialMs: 1, maxMs: 5 }, onError: () => {} } });
  await recordStatements(auditor, 10);
  await auditor.close();
  assert.ok(sink.calls.length >= 3);
  const gap1 = sink.calls[1]!.at - sink.calls[0]!.at;
  const gap2 = sink.calls[2]!.at - sink.calls[1]!.at;
  assert.ok(gap1 >= 295, `waited ${gap1} ms after retryAfterMs 300`);
  assert.ok(gap2 >= 245, `waited ${gap2} ms after a thrown retryAfterMs 250`);
  const b1 = sink.calls[1]!.batch;
  assert.ok(b1.type === 'records' && b1.records.length === 1, 'after a partial failure only the failed entry was resent');
  assertAllArrived(dir, sink.records);
});

test('one dead sink never delays another; its data stays on disk for later', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  const alive = new MemorySink('alive');
  const dead = new MemorySink('dead', {
    behaviour: () => new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 200)),
  });
  const auditor = journalAuditor(dir, key, {
    sinks: [dead, alive],
    delivery: { pollIntervalMs: 20, backoff: { initialMs: 50, maxMs: 500 }, onError: () => {}, closeTimeoutMs: 200 },
  });
  await recordStatements(auditor, 80);
  await auditor.journal!.checkpoint();
  const started = Date.now();
  await eventually(() => alive.records.length >= 80, 5000, 'the live sink to receive the statements');
  assert.ok(Date.now() - started < 2000, 'the live sink did not wait for the dead one');
  assert.equal(dead.records.length, 0);
  await auditor.close();
  assertAllArrived(dir, alive.records);
  assert.ok(!existsSync(join(dir, '.cursors', 'dead.json')), 'the dead sink never advanced its cursor');
});

test('batches respect maxBatch and maxBatchBytes, and lines are byte-exact', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  const sink = new MemorySink('small', { maxBatch: 7, maxBatchBytes: 3000 });
  const auditor = journalAuditor(dir, key, { sinks: [sink] });
  await recordStatements(auditor, 100);
  await auditor.close();
  for (const { batch } of sink.calls) {
    assert.ok(batch.type === 'records');
    assert.ok(batch.records.length <= 7);
    const bytes = batch.records.reduce((n, r) => n + Buffer.byteLength(r.line) + 1, 0);
    assert.ok(bytes <= 3000 || batch.records.length === 1, `batch of ${bytes} bytes`);
  }
  assertVerifiedCopy(dir, reassembleRecords(assertAllArrived(dir, sink.records).values(), tempDir('qt-deliv-copy-')), key);
});

test('createDelivery on a finished journal: drain() is true once all is delivered, false while a sink fails', async () => {
  const dir = tempDir('qt-deliv-');
  const key = testKey();
  const a = journalAuditor(dir, key);
  await recordStatements(a, 40);
  await a.close();
  let healthy = false;
  const sink = new MemorySink('later', {
    behaviour: () => {
      if (!healthy) throw new Error('down');
      return {};
    },
  });
  const delivery = createDelivery({ dir, sinks: [sink], pollIntervalMs: 10, backoff: { initialMs: 5, maxMs: 20 }, onError: () => {} });
  await delivery.start();
  assert.equal(await delivery.drain(300), false);
  healthy = true;
  assert.equal(await delivery.drain(5000), true);
  await delivery.close();
  assertAllArrived(dir, sink.records);
});
