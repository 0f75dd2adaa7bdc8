// Async mode under pressure (DESIGN.md "Delivery modes"; docs/delivery.md): beyond maxQueuedEvents,
// async events spill to files under <dir>/.spill and are chained from there in order; only beyond the
// spill's disk budget are events dropped, and then counted in a sink.gap record.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import pg from 'pg';
import { ConfigError, createAuditor, EVENT_SCHEMA, type QuerytrailEvent, type SourceInfo, verifyJournal } from '@querytrail/core';
import { uuidv7 } from '../../src/event/uuidv7.js';
import { assertValidEvent } from '../support/event-schema.js';
import { tempDir } from '../support/temp-dir.js';
import { markedQuery, markers, readJournal, spillDir, spillFiles, strictlyIncreasing, waitFor } from './spill-support.js';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;

function spillDirEmpty(dir: string): boolean {
  return !existsSync(spillDir(dir)) || readdirSync(spillDir(dir)).length === 0;
}

test('a burst far over the queue bound loses nothing: 50,000 statements in one synchronous loop with maxQueuedEvents 1000', async () => {
  const dir = tempDir('qt-spill-burst-');
  const auditor = createAuditor({ service: { name: 'spill-burst' }, journal: { dir, maxQueuedEvents: 1000 }, params: { mode: 'raw' }, catalog: { mode: false } });
  await auditor.ready();
  const n = 50_000;
  for (let i = 0; i < n; i++) markedQuery(auditor, i);
  // The spiller writes on the next turns of the event loop: the overflow is on disk while it is chained.
  await waitFor(() => spillFiles(dir).length > 0, 'a spill file');
  // flush() covers spilled events too.
  await auditor.flush();
  assert.equal(markers(readJournal(dir)).length, n, 'flush() resolved before every spilled statement was written');
  await auditor.close();

  const lines = readJournal(dir);
  assert.deepEqual(markers(lines), Array.from({ length: n }, (_, i) => i), 'every statement, in emission order');
  assert.deepEqual(
    lines.filter((l) => l.rec.type === 'sink.gap').map((l) => l.rec.gap),
    [],
  );
  assert.equal(lines.length, n + 3); // genesis, sdk.start, n statements, sdk.stop
  const report = verifyJournal(dir);
  assert.equal(report.ok, true, JSON.stringify(report.findings.slice(0, 3)));
  assert.equal(report.records, n + 3);
  assert.ok(spillDirEmpty(dir), `the spill is deleted once chained: ${existsSync(spillDir(dir)) ? readdirSync(spillDir(dir)).join(', ') : ''}`);
});

test('beyond the spill budget events are dropped and counted: gap counts + records written = records emitted', async () => {
  const dir = tempDir('qt-spill-budget-');
  const errors: string[] = [];
  const auditor = createAuditor({
    service: { name: 'spill-budget' },
    journal: { dir, maxQueuedEvents: 100, spill: { maxBytes: 64 * 1024 }, onError: (e) => errors.push(e.message) },
    params: { mode: 'raw' },
    catalog: { mode: false },
  });
  await auditor.ready();
  await auditor.flush();
  const n = 5000;
  for (let i = 0; i < n; i++) markedQuery(auditor, i);
  await auditor.close();

  const lines = readJournal(dir);
  const gaps = lines.filter((l) => l.rec.type === 'sink.gap');
  assert.ok(gaps.length >= 1, 'a sink.gap record');
  for (const g of gaps) {
    assertValidEvent(g.rec);
    assert.equal(g.rec.gap!.cause, 'spill budget exhausted');
    assert.ok(g.rec.start_time! <= g.rec.end_time!, 'the gap says when the loss happened');
  }
  const lost = gaps.reduce((sum, g) => sum + g.rec.gap!.count, 0);
  const written = markers(lines);
  // n statements and sdk.stop were emitted after sdk.start was written: each is either written or counted.
  const stops = lines.filter((l) => l.rec.type === 'sdk.stop').length;
  assert.equal(written.length + stops + lost, n + 1);
  assert.ok(written.length > 100, `more than the queue held was kept (${written.length}): the spill took some`);
  assert.ok(strictlyIncreasing(written), 'what was kept is in emission order');
  // Each gap sits where its loss happened: between the statements before and after it.
  const order = lines.map((l) => (l.rec.type === 'sink.gap' ? -1 : l.rec.type === 'db.query' ? Number(l.rec.statement!.params!.values![0]) : -2));
  for (const [i, kind] of order.entries()) {
    if (kind !== -1) continue;
    const before = order.slice(0, i).filter((m) => m >= 0).at(-1) ?? -1;
    const after = order.slice(i + 1).find((m) => m >= 0);
    if (after !== undefined) assert.ok(after > before + 1, `a gap between ${before} and ${after} that lost nothing`);
  }
  assert.ok(errors.some((m) => /dropped \d+ events: spill budget exhausted/.test(m)), errors.join('\n'));
  assert.equal(verifyJournal(dir).ok, true);
  assert.ok(spillDirEmpty(dir));
});

test('spill: false keeps the old behaviour: the overflow is dropped and counted, nothing is written under .spill', async () => {
  const dir = tempDir('qt-spill-off-');
  const auditor = createAuditor({ service: { name: 'spill-off' }, journal: { dir, maxQueuedEvents: 50, spill: false }, params: { mode: 'raw' }, catalog: { mode: false } });
  await auditor.ready();
  await auditor.flush();
  for (let i = 0; i < 1000; i++) markedQuery(auditor, i);
  await auditor.close();
  const lines = readJournal(dir);
  const lost = lines.filter((l) => l.rec.type === 'sink.gap').reduce((sum, l) => sum + l.rec.gap!.count, 0);
  assert.equal(lines.filter((l) => l.rec.gap?.cause === 'journal queue full').length >= 1, true);
  const stops = lines.filter((l) => l.rec.type === 'sdk.stop').length;
  assert.equal(markers(lines).length + stops + lost, 1001);
  assert.equal(existsSync(spillDir(dir)), false);
  assert.throws(() => createAuditor({ service: { name: 'x' }, journal: { dir, spill: { maxBytes: -1 } } }), ConfigError);
  assert.throws(() => createAuditor({ service: { name: 'x' }, journal: { dir, spill: 'yes' as never } }), ConfigError);
});

/** Every kind of character JSON escapes or encodes in several bytes. */
const awkward = 'quote " backslash \\ newline \n tab \t bell \u0007 é ☃ 𝄞 lone \ud800 end';

test('a spilled record is written byte for byte as it would have been without the spill (pg, concurrent statements, queue bound 4)', async () => {
  const dir = tempDir('qt-spill-line-');
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({
    service: { name: 'spill-line', version: '1.2.3', env: 'test' },
    journal: { dir, maxQueuedEvents: 4 },
    catalog: { mode: false },
    onEvent: (e) => events.push(e),
  });
  const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 4 }));
  await auditor.runWithContext({ actor: { type: 'human', id: 'u42', name: awkward, roles: ['é'] }, request: { id: 'r1', route: '/a/:id' } }, async () => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => pool.query('SELECT $1::text AS v, $2::int AS i', [awkward, i])));
    await assert.rejects(pool.query('SELECT * FROM qt_spill_missing_table'));
  });
  await pool.end();
  await auditor.close();

  const byId = new Map(events.map((e) => [e.event_id, e]));
  const lines = readJournal(dir);
  let compared = 0;
  for (const { line, rec } of lines) {
    assertValidEvent(rec);
    const event = byId.get(rec.event_id);
    if (event === undefined) continue; // chain.genesis is the journal's own
    // Listeners get the event before it is chained; the line is that event with its chain position.
    assert.equal(line, JSON.stringify({ ...event, integrity: rec.integrity }), `${rec.type} ${rec.event_id}`);
    compared++;
  }
  assert.equal(compared, lines.length - 1);
  assert.ok(markersOf(lines) >= 301, 'every statement is there');
  // A record that went through the spill leaves its listener event without integrity (never the
  // spill's placeholder); every other journaled event got its chain position.
  assert.ok(events.every((e) => e.integrity === undefined || e.integrity.seq > 0), 'no placeholder leaks to listeners');
  const spilled = events.filter((e) => e.integrity === undefined).length;
  assert.ok(spilled > 0, 'some statements were spilled');
  assert.equal(verifyJournal(dir).ok, true);
});

function markersOf(lines: ReturnType<typeof readJournal>): number {
  return lines.filter((l) => l.rec.type === 'db.query').length;
}

const SOURCE: SourceInfo = { sdk: { name: '@querytrail/core', version: '0.0.0' }, service: { name: 'spill-shape', instance_id: 'i-1' }, host: 'h', pid: 1 };

test('an event whose integrity is not right after its head (built by hand, keys in another order) is spilled with its head first, and chained', async () => {
  const dir = tempDir('qt-spill-shape-');
  const auditor = createAuditor({ service: { name: 'spill-shape' }, journal: { dir, maxQueuedEvents: 1 }, catalog: { mode: false } });
  await auditor.ready();
  await auditor.flush();
  const journal = auditor.journal!;
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) {
    const id = uuidv7();
    ids.push(id);
    // `integrity` last, `source` first: no sentinel where a frame expects it.
    journal.append({ source: SOURCE, type: 'heartbeat', schema: EVENT_SCHEMA, event_id: id, time: '2026-01-01T00:00:00.000000Z', integrity: undefined } as unknown as QuerytrailEvent);
  }
  await auditor.close();
  const lines = readJournal(dir).filter((l) => ids.includes(l.rec.event_id));
  assert.deepEqual(
    lines.map((l) => l.rec.event_id),
    ids,
  );
  const reordered = lines.filter((l) => l.line.startsWith(`{"schema":"${EVENT_SCHEMA}","event_id":"${l.rec.event_id}","type":"heartbeat","time":"2026-01-01T00:00:00.000000Z","integrity":{`));
  assert.ok(reordered.length >= 18, `${reordered.length} of 20 were spilled with their head first`);
  for (const l of lines) assertValidEvent(l.rec);
  assert.equal(verifyJournal(dir).ok, true);
});

test('sync-mode records are never held behind the spill: an attempt appended during a spill is written before the spilled records', async () => {
  const dir = tempDir('qt-spill-sync-');
  const auditor = createAuditor({ service: { name: 'spill-sync' }, journal: { dir, maxQueuedEvents: 500 }, params: { mode: 'raw' }, catalog: { mode: false } });
  await auditor.ready();
  const n = 30_000;
  for (let i = 0; i < n; i++) markedQuery(auditor, i);
  await waitFor(() => spillFiles(dir).length > 0, 'a spill file');
  const id = uuidv7();
  const t0 = Date.now();
  await auditor.journal!.appendDurable({ schema: EVENT_SCHEMA, event_id: id, type: 'heartbeat', time: '2026-01-01T00:00:00.000000Z', integrity: undefined, source: SOURCE });
  const waitedMs = Date.now() - t0;
  await auditor.close();
  const lines = readJournal(dir);
  const at = lines.findIndex((l) => l.rec.event_id === id);
  const queries = markers(lines);
  assert.deepEqual(queries, Array.from({ length: n }, (_, i) => i));
  const after = markers(lines.slice(at + 1)).length;
  assert.ok(after > n / 2, `the durable record went ahead of ${after} of ${n} spilled records (waited ${waitedMs} ms)`);
  assert.equal(verifyJournal(dir).ok, true);
});

test('a statement waiting for its attempt record is not refused because async traffic filled the queue (the rest spilled)', async () => {
  const dir = tempDir('qt-spill-full-');
  const auditor = createAuditor({ service: { name: 'spill-full' }, journal: { dir, maxQueuedEvents: 500 }, params: { mode: 'raw' }, catalog: { mode: false } });
  await auditor.ready();
  for (let i = 0; i < 5_000; i++) markedQuery(auditor, i); // the queue is at its bound, the rest goes to the spill
  const id = uuidv7();
  await auditor.journal!.appendDurable({ schema: EVENT_SCHEMA, event_id: id, type: 'heartbeat', time: '2026-01-01T00:00:00.000000Z', integrity: undefined, source: SOURCE });
  await auditor.close();
  const lines = readJournal(dir);
  assert.ok(lines.some((l) => l.rec.event_id === id), 'the durable record was written');
  assert.equal(lines.filter((l) => l.rec.type === 'sink.gap').length, 0, 'nothing dropped');
  assert.deepEqual(markers(lines), Array.from({ length: 5_000 }, (_, i) => i));
  assert.equal(verifyJournal(dir).ok, true);
});

test('a spilled record larger than the spill buffers (a 3 MiB statement) is spilled, read back whole and chained in its place', async () => {
  const dir = tempDir('qt-spill-big-');
  const auditor = createAuditor({ service: { name: 'spill-big' }, journal: { dir, maxQueuedEvents: 10 }, params: { mode: 'raw' }, catalog: { mode: false }, maxStatementLength: 4 * 1024 * 1024 });
  await auditor.ready();
  const huge = `SELECT '${'y'.repeat(3 * 1024 * 1024)}'`;
  for (let i = 0; i < 3000; i++) {
    markedQuery(auditor, i);
    if (i === 1500) auditor.begin({ text: huge, db: { system: 'postgresql', driver: 'pg', namespace: 'test' } }).succeed({});
  }
  await auditor.close();
  const lines = readJournal(dir);
  const at = lines.findIndex((l) => l.rec.statement?.text === huge);
  assert.ok(at > 0, 'the 3 MiB statement was written untruncated');
  assert.deepEqual(markers(lines.slice(0, at)), Array.from({ length: 1501 }, (_, i) => i));
  assert.deepEqual(markers(lines.slice(at + 1)), Array.from({ length: 1499 }, (_, i) => 1501 + i));
  assert.equal(verifyJournal(dir).ok, true);
  assert.ok(spillDirEmpty(dir));
});

test('a spill write that fails is never silent: its events are counted in a sink.gap record where they were lost', async () => {
  const dir = tempDir('qt-spill-fail-');
  // A regular file where the spill directory would go: every spill write fails (as on a full or broken disk).
  writeFileSync(spillDir(dir), 'not a directory');
  const errors: string[] = [];
  const auditor = createAuditor({ service: { name: 'spill-fail' }, journal: { dir, maxQueuedEvents: 100, onError: (e) => errors.push(e.message) }, params: { mode: 'raw' }, catalog: { mode: false } });
  await auditor.ready();
  await auditor.flush();
  const n = 2000;
  for (let i = 0; i < n; i++) markedQuery(auditor, i);
  await auditor.close();
  const lines = readJournal(dir);
  const gaps = lines.filter((l) => l.rec.type === 'sink.gap');
  assert.ok(gaps.length >= 1);
  for (const g of gaps) assert.match(g.rec.gap!.cause, /^spill write failed \(E[A-Z]+\)$/);
  const lost = gaps.reduce((sum, g) => sum + g.rec.gap!.count, 0);
  const stops = lines.filter((l) => l.rec.type === 'sdk.stop').length;
  const written = markers(lines);
  assert.equal(written.length + stops + lost, n + 1);
  assert.ok(written.length >= 100, 'what the queue held was written');
  assert.ok(strictlyIncreasing(written));
  assert.ok(errors.some((m) => /could not spill \d+ events/.test(m)), errors.join('\n'));
  assert.equal(verifyJournal(dir).ok, true);
});
