import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import type { QuerytrailEvent } from '@querytrail/core';
import { type OcsfDatastoreActivity, toOcsf } from '@querytrail/sinks/ocsf';
import { stdoutSink } from '@querytrail/sinks/stdout';
import { journalAuditor, journalIds, testKey } from '../../core/test/delivery/harness.js';
import { tempDir } from '../../core/test/support/temp-dir.js';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' } as const;
const TABLE = `qt_ocsf_${randomBytes(5).toString('hex')}`;

test('OCSF 1.1 Datastore Activity from real PostgreSQL traffic: activities, status, policy, actor, endpoints', async () => {
  const dir = tempDir('qt-ocsf-');
  const lines: string[] = [];
  const events: QuerytrailEvent[] = [];
  const stream = {
    write(chunk: string, cb: (e?: Error | null) => void) {
      lines.push(...chunk.split('\n').filter(Boolean));
      cb();
      return true;
    },
  };
  const auditor = journalAuditor(dir, testKey(), {
    sinks: [stdoutSink({ stream, format: 'ocsf', name: 'ocsf' })],
    policy: {},
    onEvent: (e) => events.push(e),
  });
  await auditor.ready();
  const pool = auditor.instrumentPg(new pg.Pool(PG));
  try {
    await auditor.runWithContext({ actor: { id: 'u42', type: 'human', name: 'Ada', roles: ['dba'], session_id: 's-1' }, request: { id: 'r-9', method: 'POST', client_ip: '10.1.2.3' } }, async () => {
      await pool.query(`CREATE TABLE ${TABLE} (id int primary key, email text)`);
      await pool.query(`INSERT INTO ${TABLE} VALUES ($1, $2)`, [1, 'a@example.com']);
      await pool.query(`SELECT email FROM ${TABLE} WHERE id = $1`, [1]);
      await pool.query(`UPDATE ${TABLE} SET email = $1 WHERE id = 1`, ['b@example.com']);
      await pool.query(`DELETE FROM ${TABLE} WHERE id = 1`);
      await assert.rejects(pool.query(`SELECT nope FROM ${TABLE}`));
      await assert.rejects(pool.query(`DROP TABLE ${TABLE}`), (e: unknown) => (e as { code?: string }).code === 'QT_ERR_POLICY_BLOCKED');
    });
  } finally {
    await pool.end();
    const admin = new pg.Client(PG);
    await admin.connect();
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.end();
  }
  await auditor.close();

  const out = lines.map((l) => JSON.parse(l) as OcsfDatastoreActivity);
  // Every datastore event in the journal was exported once; nothing else was.
  const datastore = events.filter((e) => toOcsf(e) !== undefined).map((e) => e.event_id);
  assert.deepEqual(out.map((o) => o.metadata.uid).sort(), [...new Set(datastore)].sort());
  const journalEvents = journalIds(dir).events;
  for (const o of out) assert.ok(journalEvents.has(o.metadata.uid), 'metadata.uid is the journal event_id');

  const byText = (prefix: string) => out.find((o) => o.query_info?.query_string?.startsWith(prefix) && o.unmapped.querytrail_type !== 'db.query.attempt')!;
  for (const o of out) {
    assert.equal(o.class_uid, 6005);
    assert.equal(o.category_uid, 6);
    assert.equal(o.type_uid, 600500 + o.activity_id);
    assert.equal(o.metadata.version, '1.1.0');
    assert.equal(typeof o.time, 'number');
  }
  assert.equal(byText('CREATE').activity_id, 6);
  assert.equal(byText('INSERT').activity_id, 6);
  const select = byText('SELECT email');
  assert.deepEqual([select.activity_id, select.activity_name, select.status_id, select.severity_id], [4, 'Query', 1, 1]);
  assert.equal(select.table?.name, TABLE);
  assert.equal(select.type_id, 3);
  assert.deepEqual(select.database, { name: 'test', type: 'PostgreSQL', type_id: 1 });
  assert.deepEqual(select.dst_endpoint, { ip: '127.0.0.1', port: 5432 });
  assert.deepEqual(select.actor.user, { uid: 'u42', name: 'Ada', type_id: 1, type: 'User', groups: [{ name: 'dba' }] });
  assert.deepEqual(select.actor.session, { uid: 's-1' });
  assert.equal(select.src_endpoint?.ip, '10.1.2.3');
  assert.equal(select.http_request?.uid, 'r-9');
  assert.equal(typeof select.duration, 'number');
  assert.ok((select.unmapped.integrity as { seq: number }).seq > 0, 'the chain position is kept in unmapped');
  assert.equal(byText('UPDATE').activity_id, 2);
  assert.equal(byText('DELETE').activity_id, 7);
  const failed = byText('SELECT nope');
  assert.deepEqual([failed.status_id, failed.status, failed.status_code, failed.severity_id], [2, 'Failure', '42703', 2]);
  const blocked = out.find((o) => o.unmapped.querytrail_type === 'db.query.blocked')!;
  assert.deepEqual([blocked.activity_id, blocked.status, blocked.action, blocked.disposition_id, blocked.severity_id], [7, 'Blocked', 'Denied', 2, 3]);
  assert.deepEqual(blocked.metadata.profiles, ['security_control']);
  assert.ok(out.some((o) => o.activity_id === 3), 'db.connect maps to Connect');
});

test('toOcsf skips events that are not datastore activity', () => {
  const base = { schema: 'querytrail.event/1', event_id: 'x', time: '2025-01-01T00:00:00.000001Z', source: { sdk: { name: '@querytrail/core', version: '0' }, service: { name: 's', instance_id: 'i' }, host: 'h', pid: 1 } } as const;
  for (const type of ['sdk.start', 'sdk.stop', 'heartbeat', 'chain.genesis', 'sink.gap'] as const) assert.equal(toOcsf({ ...base, type } as QuerytrailEvent), undefined);
  assert.ok(toOcsf({ ...base, type: 'db.disconnect', db: { system: 'mysql', driver: 'mysql2' } } as QuerytrailEvent));
});
