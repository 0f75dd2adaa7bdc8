import type { QuerytrailEvent } from '@querytrail/core';
import type { OcsfActivityId, OcsfDatastoreActivity } from './types.js';

const ACTIVITY_NAMES: Record<OcsfActivityId, string> = {
  0: 'Unknown',
  1: 'Read',
  2: 'Update',
  3: 'Connect',
  4: 'Query',
  5: 'Write',
  6: 'Create',
  7: 'Delete',
  99: 'Other',
};

/** The event types that are datastore activity; the others (sdk.*, heartbeat, chain.genesis, sink.gap, policy.alert) are not. */
const DATASTORE_TYPES = new Set(['db.query', 'db.query.attempt', 'db.query.blocked', 'db.connect', 'db.disconnect', 'policy.override']);

const DB_TYPES: Record<string, string> = { postgresql: 'PostgreSQL', mysql: 'MySQL', mariadb: 'MariaDB' };

/** First SQL command → activity. SELECT is a Query (a filtered subset), not a Read of one record. */
function activityOf(event: QuerytrailEvent): { id: OcsfActivityId; name: string } {
  if (event.type === 'db.connect') return { id: 3, name: 'Connect' };
  if (event.type === 'db.disconnect') return { id: 99, name: 'Disconnect' };
  const command = (event.statement?.command ?? '').split(';')[0]!.trim().toUpperCase();
  const first = command.split(' ')[0] ?? '';
  let id: OcsfActivityId;
  switch (first) {
    case 'SELECT':
    case 'WITH':
    case 'SHOW':
    case 'EXPLAIN':
    case 'TABLE':
    case 'VALUES':
      id = 4;
      break;
    case 'INSERT':
    case 'CREATE':
      id = 6;
      break;
    case 'UPDATE':
    case 'ALTER':
    case 'RENAME':
      id = 2;
      break;
    case 'DELETE':
    case 'DROP':
    case 'TRUNCATE':
      id = 7;
      break;
    case 'MERGE':
    case 'REPLACE':
    case 'UPSERT':
    case 'COPY':
    case 'LOAD':
      id = 5;
      break;
    default:
      id = event.statement ? 99 : 0;
  }
  return { id, name: id === 99 ? command || 'Other' : ACTIVITY_NAMES[id] };
}

const USER_TYPES: Record<string, [number, string]> = { human: [1, 'User'], system: [3, 'System'], service: [99, 'Service'], bot: [99, 'Bot'] };

function ms(rfc3339: string | undefined): number | undefined {
  if (rfc3339 === undefined) return undefined;
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? undefined : t;
}

function severity(event: QuerytrailEvent): [number, string] {
  if (event.type === 'policy.override' || event.result?.outcome === 'blocked') return [3, 'Medium'];
  if (event.policy?.decision === 'alert' || (event.policy?.decision === 'block' && event.policy.mode === 'monitor')) return [3, 'Medium'];
  if (event.result?.outcome === 'failure') return [2, 'Low'];
  return [1, 'Informational'];
}

function status(event: QuerytrailEvent): [number, string] {
  switch (event.result?.outcome) {
    case 'success':
      return [1, 'Success'];
    case 'failure':
      return [2, 'Failure'];
    case 'blocked':
      return [2, 'Failure'];
    default:
      // connect/disconnect and attempt records carry no result: the connection was made / the attempt is pending.
      return event.type === 'db.query.attempt' ? [0, 'Unknown'] : [1, 'Success'];
  }
}

function isDatastoreActivity(event: QuerytrailEvent): boolean {
  return DATASTORE_TYPES.has(event.type);
}

/**
 * Maps one querytrail event to OCSF 1.1.0 Datastore Activity (class 6005), field by field as
 * docs/ocsf.md describes. Returns undefined for events that are not datastore activity
 * (sdk.start/stop, heartbeat, chain.genesis, sink.gap, policy.alert).
 */
export function toOcsf(event: QuerytrailEvent): OcsfDatastoreActivity | undefined {
  if (!isDatastoreActivity(event)) return undefined;
  const activity = activityOf(event);
  const [severityId, severityName] = severity(event);
  const [statusId, statusName] = status(event);
  const db = event.db;
  const table = event.objects?.[0];
  const start = ms(event.start_time);
  const end = ms(event.end_time);
  const s = event.source;
  const out: OcsfDatastoreActivity = {
    class_uid: 6005,
    class_name: 'Datastore Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: activity.id,
    activity_name: activity.name,
    type_uid: 600500 + activity.id,
    type_name: `Datastore Activity: ${activity.name}`,
    time: ms(event.time) ?? 0,
    severity_id: severityId,
    severity: severityName,
    status_id: statusId,
    status: event.result?.outcome === 'blocked' ? 'Blocked' : statusName,
    message: `${event.type}${event.statement?.summary ? `: ${event.statement.summary}` : ''}`,
    metadata: {
      version: '1.1.0',
      product: { name: 'querytrail', vendor_name: 'querytrail', version: s.sdk.version },
      uid: event.event_id,
      original_time: event.time,
      log_name: event.type,
    },
    actor: { app_name: s.service.name },
    type_id: table ? 3 : 1,
    type: table ? 'Table' : 'Database',
    unmapped: {},
  };
  if (start !== undefined) out.start_time = start;
  if (end !== undefined) out.end_time = end;
  if (event.duration_us !== undefined) out.duration = Math.round(event.duration_us / 1000);
  if (event.trace) out.metadata.correlation_uid = event.trace.trace_id;
  const err = event.result?.error;
  if (err?.code !== undefined) out.status_code = err.code;
  if (err) out.status_detail = err.message;

  const a = event.actor;
  if (a) {
    const [typeId, typeName] = USER_TYPES[a.type] ?? [0, 'Unknown'];
    out.actor.user = { uid: a.id, type_id: typeId, type: typeName };
    if (a.name !== undefined) out.actor.user.name = a.name;
    if (a.roles && a.roles.length > 0) out.actor.user.groups = a.roles.map((name) => ({ name }));
    if (a.session_id !== undefined) out.actor.session = { uid: a.session_id };
    if (a.impersonator) out.actor.invoked_by = a.impersonator.id;
  }
  if (db) {
    out.database = { type: DB_TYPES[db.system] ?? db.system, type_id: 1 };
    if (db.namespace !== undefined) out.database.name = db.namespace;
    if (db.server && (db.server.address !== undefined || db.server.port !== undefined)) {
      const ep: NonNullable<OcsfDatastoreActivity['dst_endpoint']> = {};
      const addr = db.server.address;
      if (addr !== undefined) {
        if (/^[\d.]+$|:/.test(addr)) ep.ip = addr;
        else ep.hostname = addr;
      }
      if (db.server.port !== undefined) ep.port = db.server.port;
      out.dst_endpoint = ep;
    }
  }
  if (table) out.table = { name: table.schema ? `${table.schema}.${table.name}` : table.name };
  const st = event.statement;
  if (st) {
    const q: NonNullable<OcsfDatastoreActivity['query_info']> = {};
    if (st.text !== undefined) q.query_string = st.text;
    if (st.summary !== undefined) q.name = st.summary;
    if (st.fingerprint !== undefined) q.uid = st.fingerprint;
    out.query_info = q;
  }
  const r = event.request;
  if (r?.client_ip) out.src_endpoint = { ip: r.client_ip };
  if (r && (r.id || r.method || r.route || r.user_agent)) {
    const h: NonNullable<OcsfDatastoreActivity['http_request']> = {};
    if (r.id) h.uid = r.id;
    if (r.method) h.http_method = r.method;
    if (r.user_agent) h.user_agent = r.user_agent;
    if (r.route) h.url = { path: r.route };
    out.http_request = h;
  }
  const p = event.policy;
  if (p || event.result?.outcome === 'blocked') {
    // The security_control profile: what the policy control did.
    const denied = event.result?.outcome === 'blocked';
    out.action_id = denied ? 2 : 1;
    out.action = denied ? 'Denied' : 'Allowed';
    out.disposition_id = denied ? 2 : 1;
    out.disposition = denied ? 'Blocked' : 'Allowed';
    out.metadata.profiles = ['security_control'];
  }
  const u = out.unmapped;
  u.querytrail_type = event.type;
  if (event.integrity) u.integrity = event.integrity;
  u.service = s.service;
  u.host = s.host;
  u.pid = s.pid;
  if (st) u.statement = { class: st.class, command: st.command, ...(st.destructive ? { destructive: true } : {}), ...(st.params ? { params: st.params } : {}) };
  if (event.objects) u.objects = event.objects;
  if (event.sensitivity) u.sensitivity = event.sensitivity;
  if (p) u.policy = p;
  if (event.result?.rows_returned !== undefined) u.rows_returned = event.result.rows_returned;
  if (event.result?.rows_affected !== undefined) u.rows_affected = event.result.rows_affected;
  if (event.orm) u.orm = event.orm;
  if (db) u.db = { driver: db.driver, ...(db.user ? { user: db.user } : {}), ...(db.connection_id ? { connection_id: db.connection_id } : {}), ...(db.tx_id ? { tx_id: db.tx_id } : {}) };
  if (event.trace) u.trace = event.trace;
  if (event.attempt_id) u.attempt_id = event.attempt_id;
  return out;
}
