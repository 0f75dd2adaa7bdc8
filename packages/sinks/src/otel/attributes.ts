import type { QuerytrailEvent } from '@querytrail/core';
import type { LogAttributes } from '@opentelemetry/api-logs';

/**
 * Log record attributes: OpenTelemetry database semantic conventions where one fits (db.*, server.*),
 * querytrail.* for the rest, so a log backend can filter without parsing the body.
 */
export function eventAttributes(e: QuerytrailEvent): LogAttributes {
  const a: LogAttributes = {
    'querytrail.record.kind': 'event',
    'querytrail.event_id': e.event_id,
    'querytrail.event_type': e.type,
    'service.name': e.source.service.name,
  };
  if (e.integrity) {
    a['querytrail.chain_id'] = e.integrity.chain_id;
    a['querytrail.seq'] = e.integrity.seq;
  }
  if (e.actor) {
    a['querytrail.actor.id'] = e.actor.id;
    a['querytrail.actor.type'] = e.actor.type;
  }
  if (e.request?.id) a['querytrail.request.id'] = e.request.id;
  const db = e.db;
  if (db) {
    a['db.system.name'] = db.system;
    if (db.namespace) a['db.namespace'] = db.namespace;
    if (db.server?.address) a['server.address'] = db.server.address;
    if (db.server?.port !== undefined) a['server.port'] = db.server.port;
  }
  const st = e.statement;
  if (st) {
    a['db.operation.name'] = st.command;
    if (st.summary) a['db.query.summary'] = st.summary;
    a['querytrail.statement.class'] = st.class;
    if (st.destructive) a['querytrail.statement.destructive'] = true;
  }
  if (e.result) {
    a['querytrail.outcome'] = e.result.outcome;
    if (e.result.error?.code) a['db.response.status_code'] = e.result.error.code;
    if (e.result.rows_returned !== undefined) a['db.response.returned_rows'] = e.result.rows_returned;
  }
  if (e.policy) a['querytrail.policy.decision'] = e.policy.decision;
  if (e.sensitivity?.tags.length) a['querytrail.sensitivity.tags'] = e.sensitivity.tags;
  if (e.objects?.length) a['querytrail.objects'] = e.objects.map((o) => (o.schema ? `${o.schema}.${o.name}` : o.name));
  return a;
}
