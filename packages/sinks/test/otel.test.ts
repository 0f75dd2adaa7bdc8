import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@querytrail/core';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { otelLogsSink } from '@querytrail/sinks/otel';
import { assertAllArrived, assertVerifies, journalAuditor, reassembleRecords, recordStatements, recordsFromLines, testKey } from '../../core/test/delivery/harness.js';
import { tempDir } from '../../core/test/support/temp-dir.js';

function provider() {
  const exporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  return { exporter, loggerProvider, logger: loggerProvider.getLogger('querytrail') };
}

test("OTel logs, body 'line': every record arrives as a log record and the bodies verify", async () => {
  const dir = tempDir('qt-sink-otel-');
  const key = testKey();
  const { exporter, loggerProvider, logger } = provider();
  const auditor = journalAuditor(dir, key, { sinks: [otelLogsSink({ logger, body: 'line', flush: () => loggerProvider.forceFlush() })] });
  await recordStatements(auditor, 60);
  await auditor.close();
  const logs = exporter.getFinishedLogRecords();
  const byId = assertAllArrived(dir, recordsFromLines(logs.map((l) => l.body as string)));
  assertVerifies(dir, reassembleRecords(byId.values(), tempDir('qt-sink-otel-copy-')), key);
  await loggerProvider.shutdown();
});

test("OTel logs, default body: the event as a map, with db.* and querytrail.* attributes and microsecond timestamps", async () => {
  const dir = tempDir('qt-sink-otel-');
  const { exporter, loggerProvider, logger } = provider();
  const auditor = journalAuditor(dir, testKey(), { sinks: [otelLogsSink({ logger })] });
  await auditor.runWithContext({ actor: { id: 'u42', type: 'human' } }, () => recordStatements(auditor, 5));
  await auditor.close();
  const logs = exporter.getFinishedLogRecords();
  const queries = logs.filter((l) => l.eventName === 'db.query');
  assert.equal(queries.length, 5);
  const q = queries[0]!;
  const body = q.body as { event_id: string; type: string; statement: { text: string } };
  assert.equal(body.type, 'db.query');
  assert.equal(q.attributes['querytrail.event_id'], body.event_id);
  assert.equal(q.attributes['db.system.name'], 'postgresql');
  assert.equal(q.attributes['db.operation.name'], 'UPDATE');
  assert.equal(q.attributes['db.query.summary'], 'UPDATE accounts_q');
  assert.equal(q.attributes['querytrail.actor.id'], 'u42');
  assert.equal(q.severityText, 'INFO');
  const micros = (body as unknown as { time: string }).time.slice(20, 26);
  assert.equal(String(q.hrTime[1]).padStart(9, '0').slice(0, 6), micros, 'the timestamp keeps the microseconds of event.time');
  assert.ok(logs.some((l) => l.eventName === 'querytrail.checkpoint' && l.attributes['querytrail.record.kind'] === 'checkpoint'));
  // Every event arrived (dedup by event_id), checkpoints by their dedup id.
  const ids = new Set(logs.map((l) => (l.attributes['querytrail.event_id'] ?? l.attributes['querytrail.dedup_id']) as string));
  assertAllArrived(dir, [...ids].map((id) => ({ kind: 'event' as const, line: '', chainId: '', dedupId: id, file: '' })));
  await loggerProvider.shutdown();
});

test("OTel logs, format 'ocsf': OCSF Datastore Activity bodies for statements only", async () => {
  const dir = tempDir('qt-sink-otel-');
  const { exporter, loggerProvider, logger } = provider();
  const auditor = journalAuditor(dir, testKey(), { sinks: [otelLogsSink({ logger, format: 'ocsf' })] });
  await recordStatements(auditor, 4);
  await auditor.close();
  const bodies = exporter.getFinishedLogRecords().map((l) => l.body as { class_uid: number; type_uid: number });
  assert.equal(bodies.length, 4);
  for (const b of bodies) assert.deepEqual([b.class_uid, b.type_uid], [6005, 600502]);
  await loggerProvider.shutdown();
});

test('OTel settings are checked with errors naming the field', () => {
  assert.throws(() => otelLogsSink({} as never), (e: unknown) => e instanceof ConfigError && e.path === 'otel.logger');
  const { logger } = provider();
  assert.throws(() => otelLogsSink({ logger, body: 'xml' as never }), (e: unknown) => e instanceof ConfigError && e.path === 'otel.body');
});
