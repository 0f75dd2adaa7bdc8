/** A db.query event of the shape the pg wrapper emits for the W1 point select (about 1.3 KB as JSON). */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { QuerytrailEvent, SourceInfo } from '@querytrail/core';

export function sampleSource(): SourceInfo {
  return {
    sdk: { name: '@querytrail/core', version: '0.1.0' },
    service: { name: 'querytrail-bench', env: 'bench', instance_id: randomUUID() },
    host: hostname(),
    pid: process.pid,
  };
}

export function sampleEvent(i: number, source: SourceInfo = sampleSource()): QuerytrailEvent {
  const start = new Date(Date.UTC(2026, 0, 1, 0, 0, 0) + i).toISOString().replace('Z', '000Z');
  return {
    schema: 'querytrail.event/1',
    event_id: randomUUID(),
    type: 'db.query',
    time: start,
    start_time: start,
    end_time: start,
    duration_us: 412,
    source,
    actor: { type: 'human', id: 'u42', name: 'Ada', roles: ['support'] },
    request: { id: `req-${i}`, method: 'GET', route: '/accounts/:id' },
    trace: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7', flags: '01' },
    db: { system: 'postgresql', namespace: 'test', user: 'postgres', server: { address: '127.0.0.1', port: 5432 }, driver: 'pg', connection_id: '7' },
    statement: {
      class: 'read',
      command: 'SELECT',
      text: 'SELECT id, name, email, balance, created_at FROM qt_bench_items WHERE id = $1',
      fingerprint: 'SELECT id, name, email, balance, created_at FROM qt_bench_items WHERE id = $1',
      summary: 'SELECT qt_bench_items',
      params: { mode: 'hashed', count: 1, values: ['hmac-sha256:3f0c2a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a'] },
    },
    objects: [{ type: 'table', name: 'qt_bench_items', columns: ['id', 'name', 'email', 'balance', 'created_at'], access: 'read' }],
    result: { outcome: 'success', rows_returned: 1 },
  };
}
