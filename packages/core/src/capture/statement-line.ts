import { member, num, quote } from '../event/json.js';
import type { DbInfo, EventType, IntegrityInfo, ResultInfo, SourceInfo, StatementInfo } from '../event/types.js';
import { EVENT_SCHEMA } from '../event/types.js';
import type { Decision } from '../policy/index.js';
import type { LineOut } from '../journal/record.js';
import { contextHead, contextOrm, dbJson, objectsJson, sourceJson, statementHead } from './line-fragments.js';
import { type PendingStatement, recordable } from './pending-statement.js';

/**
 * The JSON line of a statement event (db.query, db.query.attempt), built from cached pieces instead of
 * JSON.stringify over the whole event (which re-serialised the same source, connection, actor and
 * statement text for every query). Field order and text are those of JSON.stringify(toEvent()):
 * schema, event_id, type, time, [start_time, end_time, duration_us], integrity, source, then the
 * statement fields (pending-statement.ts statementFields), then result and attempt_id.
 */

const HEAD = `{"schema":${quote(EVENT_SCHEMA)},"event_id":"`;

export interface LineTimes {
  /** Already formatted (formatMicros). */
  time: string;
  /** db.query only: start, end (end = time) and the duration. */
  start?: string;
  durationUs?: number;
}

/** chain_id (a UUID) and prev_hash (hex) never need escaping. */
export function integrityJson(i: IntegrityInfo): string {
  return `,"integrity":{"chain_id":"${i.chain_id}","seq":${num(i.seq)},"prev_hash":"${i.prev_hash}"}`;
}

/**
 * `,"params":{...}`. Hashed values are `hmac:` + base64url or null, so that common case is written
 * directly; raw and other shapes go through JSON.stringify.
 */
function paramsJson(params: NonNullable<StatementInfo['params']>): string {
  const values = params.values;
  if (params.mode !== 'hashed' || values === undefined || Object.keys(params).length !== 3) return member('params', params);
  let s = `,"params":{"mode":"hashed","count":${num(params.count)},"values":[`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) s += ',';
    if (v === null) s += 'null';
    else if (typeof v === 'string' && HASHED.test(v)) s += `"${v}"`;
    else return member('params', params);
  }
  return `${s}]}`;
}

const HASHED = /^hmac:[A-Za-z0-9_-]*$/;

/**
 * A statement event's line (db.query, db.query.attempt), written into the journal's buffer: the ASCII
 * head (ids, times, integrity) as latin1, cached pieces as their bytes, the rest encoded once. No
 * whole-line string is built, concatenated or encoded. The records' `line()` is the same writer into a
 * TextLineOut. The bytes must be exactly JSON.stringify of the event (test/journal/line-format.test.ts
 * compares the journal's lines with the events listeners got).
 */
export function writeStatementLine(
  out: LineOut,
  type: EventType,
  eventId: string,
  times: LineTimes,
  integrity: IntegrityInfo,
  source: SourceInfo,
  p: PendingStatement,
  db: DbInfo,
  result: ResultInfo | undefined,
  attemptId: string | undefined,
): void {
  // Only constants, UUIDs, formatted times, numbers and hex up to here: ASCII.
  let s = `${HEAD}${eventId}","type":"${type}","time":"${times.time}"`;
  if (times.start !== undefined) s += `,"start_time":"${times.start}","end_time":"${times.time}","duration_us":${num(times.durationUs!)}`;
  out.latin1(s + integrityJson(integrity));
  out.bytes(sourceJson(source).bytes);
  out.bytes(contextHead(p.context).bytes);
  if (p.trace) out.utf8(member('trace', p.trace));
  out.bytes(dbJson(db).bytes);
  out.bytes(contextOrm(p.context).bytes);
  out.bytes(statementHead(p.analysis, p.statement).bytes);
  out.utf8(statementMiddle(p));
  out.bytes(objectsJson(p.analysis).bytes);
  out.utf8(statementTail(p, result, attemptId));
}

/** Params (if any) and the statement's closing brace. */
function statementMiddle(p: PendingStatement): string {
  // Parameters are fixed at begin: the attempt record and the db.query record share the text.
  p.paramsClose ??= p.statement.params === undefined ? '}' : `${paramsJson(p.statement.params)}}`;
  return p.paramsClose;
}

/** Sensitivity, policy, result, attempt_id and the closing brace of the line. */
function statementTail(p: PendingStatement, result: ResultInfo | undefined, attemptId: string | undefined): string {
  let s = '';
  const d = p.decision;
  if (d !== undefined) s += decisionJson(d);
  if (result !== undefined) s += resultJson(result);
  if (attemptId !== undefined) s += `,"attempt_id":"${attemptId}"`; // a UUID: nothing to escape
  return `${s}}`;
}

function decisionJson(d: Decision): string {
  return (d.sensitivity ? member('sensitivity', d.sensitivity) : '') + (recordable(d) ? member('policy', d.decision) : '');
}

/** `,"result":{...}`: the common success shape by hand, anything else through JSON.stringify. */
function resultJson(r: ResultInfo): string {
  if (r.outcome !== 'success' || r.error !== undefined) return member('result', r);
  let s = ',"result":{"outcome":"success"';
  if (r.rows_returned !== undefined) s += `,"rows_returned":${num(r.rows_returned)}`;
  if (r.rows_affected !== undefined) s += `,"rows_affected":${num(r.rows_affected)}`;
  return `${s}}`;
}

export type { StatementInfo };
