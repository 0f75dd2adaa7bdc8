import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditor, hashLine, type QuerytrailEvent, verifyJournal, ZERO_HASH } from '@querytrail/core';
import { isJournalRecord, type JournalRecord } from '../../src/journal/record.js';
import { assertValidEvent } from '../support/event-schema.js';
import { tempDir } from '../support/temp-dir.js';

function readRecords(dir: string): { line: string; rec: QuerytrailEvent }[] {
  const out: { line: string; rec: QuerytrailEvent }[] = [];
  for (const f of readdirSync(dir).sort()) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line) out.push({ line, rec: JSON.parse(line) as QuerytrailEvent });
    }
  }
  return out;
}

function fakeQuery(auditor: ReturnType<typeof createAuditor>, i: number): void {
  const h = auditor.begin({
    text: `SELECT * FROM t WHERE id = $1`,
    params: [i],
    db: { system: 'postgresql', driver: 'pg', namespace: 'test' },
  });
  h.succeed({ rowsReturned: 1 });
}

test('records are chained: seq +1, prev_hash = SHA-256 of the previous line bytes, genesis first', async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'journal-test' }, journal: { dir } });
  for (let i = 0; i < 100; i++) fakeQuery(auditor, i);
  await auditor.close();
  const records = readRecords(dir);
  assert.equal(records.length, 103); // genesis + sdk.start + 100 + sdk.stop
  assert.equal(records[0]!.rec.type, 'chain.genesis');
  assert.equal(records[0]!.rec.genesis?.reason, 'first_start');
  assert.equal(records[1]!.rec.type, 'sdk.start');
  assert.equal(records.at(-1)!.rec.type, 'sdk.stop');
  let prev = ZERO_HASH;
  const chainId = records[0]!.rec.integrity!.chain_id;
  records.forEach(({ line, rec }, i) => {
    assertValidEvent(rec);
    assert.equal(rec.integrity!.chain_id, chainId);
    assert.equal(rec.integrity!.seq, i + 1);
    assert.equal(rec.integrity!.prev_hash, prev);
    prev = hashLine(Buffer.from(line, 'utf8'));
  });
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.records, 103);
});

test('segments rotate at the size limit and the chain continues across them', async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'rotate' }, journal: { dir, segmentMaxBytes: 4096 } });
  for (let i = 0; i < 200; i++) fakeQuery(auditor, i);
  await auditor.close();
  const files = readdirSync(dir).sort();
  assert.ok(files.length > 5, `expected several segments, got ${files.length}`);
  for (const f of files.slice(0, -1)) {
    const size = readFileSync(join(dir, f)).length;
    assert.ok(size <= 4096, `${f} is ${size} bytes`);
  }
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.records, 203);
  assert.equal(report.chains.length, 1);
});

test('a restart starts a new chain whose genesis links to the last record of the previous one', async () => {
  const dir = tempDir();
  const first = createAuditor({ service: { name: 'restart' }, journal: { dir } });
  fakeQuery(first, 1);
  await first.close();
  const second = createAuditor({ service: { name: 'restart' }, journal: { dir } });
  fakeQuery(second, 2);
  await second.close();
  const records = readRecords(dir);
  const geneses = records.filter((r) => r.rec.type === 'chain.genesis');
  assert.equal(geneses.length, 2);
  const link = geneses[1]!.rec.genesis!;
  assert.equal(link.reason, 'restart');
  const firstChain = records.filter((r) => r.rec.integrity!.chain_id === geneses[0]!.rec.integrity!.chain_id);
  assert.equal(link.previous!.chain_id, geneses[0]!.rec.integrity!.chain_id);
  assert.equal(link.previous!.seq, firstChain.length);
  assert.equal(link.previous!.hash, hashLine(firstChain.at(-1)!.line));
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings));
  assert.equal(report.chains.length, 2);
});

// Without a spill (spill: false), the overflow is dropped and counted; with one, see spill.test.ts.
test('a full queue never drops silently: a sink.gap record counts what was lost', async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'gap' }, journal: { dir, maxQueuedEvents: 10, spill: false } });
  // All synchronous: the writer cannot run in between, so the queue fills.
  for (let i = 0; i < 50; i++) fakeQuery(auditor, i);
  await auditor.close();
  const records = readRecords(dir);
  const gaps = records.filter((r) => r.rec.type === 'sink.gap');
  assert.ok(gaps.length >= 1);
  const lost = gaps.reduce((n, g) => n + g.rec.gap!.count, 0);
  // 50 queries and sdk.stop were emitted after the queue filled up: each is either written or counted.
  const written = records.filter((r) => r.rec.type === 'db.query' || r.rec.type === 'sdk.stop').length;
  assert.equal(written + lost, 51);
  for (const g of gaps) assertValidEvent(g.rec);
  assert.equal(verifyJournal(dir).ok, true);
});

test('flush() waits until everything emitted is on disk', async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'flush' }, journal: { dir } });
  for (let i = 0; i < 20; i++) fakeQuery(auditor, i);
  await auditor.flush();
  assert.equal(readRecords(dir).length, 22);
  await auditor.close();
  await auditor.close(); // idempotent
  assert.equal(readRecords(dir).length, 23);
});

test('an event carrying values JSON cannot hold (BigInt, a cycle) is still written, and says what was replaced', async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'serialize' }, journal: { dir } });
  const request: Record<string, unknown> = { id: 'r1' };
  request.self = request;
  await auditor.runWithContext(
    { actor: { type: 'human', id: 'u1', session_id: 'x', auth: { method: 'sso', level: 10n } as never }, request: request as never },
    async () => fakeQuery(auditor, 1),
  );
  fakeQuery(auditor, 2);
  await auditor.close();
  const records = readRecords(dir);
  const queries = records.filter((r) => r.rec.type === 'db.query');
  assert.equal(queries.length, 2, 'no record lost');
  const first = queries[0]!.rec as QuerytrailEvent & { serialization_error?: string };
  assert.match(first.serialization_error ?? '', /BigInt|circular/i);
  assert.equal((first.request as Record<string, unknown>).self, '[circular]');
  assert.equal(verifyJournal(dir).ok, true);
});

test('a batch larger than the writer buffers (about 20 MiB in one turn, one 3 MiB line) is written whole and in order', async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'big-batch' }, journal: { dir, maxQueuedEvents: 100_000 }, catalog: { mode: false }, maxStatementLength: 4 * 1024 * 1024 });
  await auditor.flush();
  // 9 MiB of text per 4,500 statements: the pool of 8 one-MiB buffers fills and is reused within one batch.
  const pad = 'x'.repeat(2000);
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    auditor
      .begin({ text: `SELECT '${pad}' AS p, ${i} AS i`, db: { system: 'postgresql', driver: 'pg', namespace: 'test' } })
      .succeed({ rowsReturned: 1 });
    if (i === n / 2) {
      // One line larger than a buffer: it gets a buffer of its own, between the others.
      auditor.begin({ text: `SELECT '${'y'.repeat(3 * 1024 * 1024)}'`, db: { system: 'postgresql', driver: 'pg', namespace: 'test' } }).succeed({});
    }
  }
  await auditor.close();
  const queries = readRecords(dir).filter((r) => r.rec.type === 'db.query');
  assert.equal(queries.length, n + 1);
  assert.ok(queries.some((r) => r.line.length > 3 * 1024 * 1024), 'the 3 MiB statement was written untruncated');
  const order = queries.map((r) => {
    const m = /(\d+) AS i$/.exec(r.rec.statement?.text ?? '');
    return m ? Number(m[1]) : -1;
  });
  assert.deepEqual(order.slice(0, n / 2 + 1), Array.from({ length: n / 2 + 1 }, (_, i) => i));
  assert.equal(order[n / 2 + 1], -1, 'the huge statement sits where it was emitted');
  assert.deepEqual(order.slice(n / 2 + 2), Array.from({ length: n / 2 - 1 }, (_, i) => n / 2 + 1 + i));
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings.slice(0, 3)));
});

test("a record's line() (the fallback paths' text) is exactly the line the journal wrote from its bytes", async () => {
  const dir = tempDir();
  const auditor = createAuditor({ service: { name: 'line-text' }, journal: { dir }, catalog: { mode: false } });
  const records: JournalRecord[] = [];
  const journal = auditor.journal!;
  const append = journal.append.bind(journal);
  journal.append = (event) => {
    if (isJournalRecord(event)) records.push(event);
    append(event);
  };
  await auditor.runWithContext({ actor: { type: 'human', id: 'ü-1', name: 'Zoë ☃' } }, async () => {
    for (let i = 0; i < 20; i++) fakeQuery(auditor, i);
    auditor.begin({ text: "SELECT 'é\\n𝄞' AS x", db: { system: 'postgresql', driver: 'pg', namespace: 'test' } }).fail(new Error('nope "quoted"'));
  });
  await auditor.close();
  const byId = new Map(readRecords(dir).map((r) => [r.rec.event_id, r]));
  assert.equal(records.length, 21);
  for (const record of records) {
    const written = byId.get(record.toEvent().event_id)!;
    assert.equal(record.line(written.rec.integrity!), written.line);
  }
});
