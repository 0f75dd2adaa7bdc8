// Sync mode's group commit (journal.groupCommitMs): attempts that arrive while others are waiting share
// one fdatasync; a statement on its own never waits for company.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyJournal } from '@querytrail/core';
import { formatMicros, nowMicros } from '../../src/event/clock.js';
import { EVENT_SCHEMA, type QuerytrailEvent, type SourceInfo } from '../../src/event/types.js';
import { uuidv7 } from '../../src/event/uuidv7.js';
import { Journal } from '../../src/journal/journal.js';
import { tempDir } from '../support/temp-dir.js';

const SOURCE: SourceInfo = {
  sdk: { name: '@querytrail/core', version: '0.0.0' },
  service: { name: 'group-commit-test', instance_id: 'i-1' },
  host: 'test',
  pid: process.pid,
};

function event(): QuerytrailEvent {
  return { schema: EVENT_SCHEMA, event_id: uuidv7(), type: 'heartbeat', time: formatMicros(nowMicros()), integrity: undefined, source: SOURCE };
}

/** Counts the fdatasyncs of the journal's current segment (opened by the first write). */
function countSyncs(journal: Journal): { count: number } {
  const counter = { count: 0 };
  const file = (journal as unknown as { file: { datasync(): Promise<void> } }).file;
  const datasync = file.datasync.bind(file);
  file.datasync = () => {
    counter.count++;
    return datasync();
  };
  return counter;
}

test('a statement on its own is written at once, however long groupCommitMs is', async () => {
  const dir = tempDir('qt-group-commit-');
  const journal = new Journal({ dir, mode: 'sync', groupCommitMs: 2000 }, SOURCE);
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) await journal.appendDurable(event());
  // Waiting for company would have taken 2 s per statement.
  assert.ok(performance.now() - t0 < 1500, `5 lone attempts took ${(performance.now() - t0).toFixed(0)} ms`);
  await journal.close();
  assert.equal(verifyJournal(dir).ok, true);
});

test('under concurrency, an attempt waits up to groupCommitMs and the ones arriving meanwhile share its fdatasync', async () => {
  const dir = tempDir('qt-group-commit-');
  const journal = new Journal({ dir, mode: 'sync', groupCommitMs: 400 }, SOURCE);
  // Two at once: one group of two, which tells the journal that statements are concurrent.
  await Promise.all([journal.appendDurable(event()), journal.appendDurable(event())]);
  const syncs = countSyncs(journal);
  const t0 = performance.now();
  let firstDone = 0;
  const first = journal.appendDurable(event()).then(() => {
    firstDone = performance.now() - t0;
  });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(firstDone, 0, 'the first attempt is still waiting for others');
  const second = journal.appendDurable(event());
  await Promise.all([first, second]);
  assert.equal(syncs.count, 1, 'both attempts were made durable by one fdatasync');
  assert.ok(firstDone >= 300, `the first attempt waited for company (${firstDone.toFixed(0)} ms)`);
  await journal.close();
  const report = verifyJournal(dir);
  assert.equal(report.ok, true);
});
