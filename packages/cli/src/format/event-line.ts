import type { QuerytrailEvent } from '@querytrail/core';

const MAX_TEXT = 160;

function actorOf(e: QuerytrailEvent): string {
  if (!e.actor) return '-';
  const via = e.actor.impersonator ? ` (via ${e.actor.impersonator.id})` : '';
  return `${e.actor.type}:${e.actor.id}${via}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}

/** What the event says happened, in a few words: the statement, a gap's loss, a chain's start. */
function whatOf(e: QuerytrailEvent): string {
  if (e.gap) return `${e.gap.count} record(s) lost${e.gap.first_seq === undefined ? '' : ` (seq ${e.gap.first_seq}..${e.gap.last_seq})`}: ${e.gap.cause}`;
  if (e.genesis) return `chain ${e.integrity?.chain_id ?? '?'} starts: ${e.genesis.reason}${e.genesis.previous ? `, after chain ${e.genesis.previous.chain_id} seq ${e.genesis.previous.seq}` : ''}`;
  if (e.alert) return `${e.alert.kind} ${e.alert.severity}: ${e.alert.reason}`;
  if (e.type === 'sdk.start' || e.type === 'sdk.stop') {
    const svc = e.source.service;
    return `${svc.name}${svc.env ? ` (${svc.env})` : ''} pid ${e.source.pid} on ${e.source.host}, ${e.source.sdk.name} ${e.source.sdk.version}`;
  }
  const parts: string[] = [];
  if (e.statement) parts.push(oneLine(e.statement.text ?? e.statement.summary ?? e.statement.command));
  else if (e.db) parts.push(`${e.db.system} ${e.db.server?.address ?? ''}${e.db.server?.port ? `:${e.db.server.port}` : ''}`.trim());
  return parts.join(' ');
}

/** Outcome and decision in capitals where they are the news: BLOCKED, FAILED, OVERRIDE, ALERT. */
function verdictOf(e: QuerytrailEvent): string {
  const decision = e.policy?.decision;
  if (e.result?.outcome === 'blocked' || decision === 'block') return e.policy?.mode === 'monitor' ? 'would-block' : 'BLOCKED';
  if (decision === 'allow_override') return 'OVERRIDE';
  if (e.result?.outcome === 'failure') return `FAILED${e.result.error?.code ? ` ${e.result.error.code}` : ''}`;
  if (decision === 'alert') return 'ALERT';
  return e.result?.outcome === 'success' ? 'ok' : '';
}

function detailOf(e: QuerytrailEvent): string {
  const bits: string[] = [];
  if (e.result?.rows_returned !== undefined) bits.push(`${e.result.rows_returned} rows`);
  if (e.result?.rows_affected !== undefined) bits.push(`${e.result.rows_affected} affected`);
  if (e.duration_us !== undefined) bits.push(`${(e.duration_us / 1000).toFixed(1)} ms`);
  if (e.sensitivity && e.sensitivity.tags.length > 0) bits.push(`tags ${e.sensitivity.tags.join(',')}`);
  if (e.policy?.rule_id && e.policy.decision !== 'allow') bits.push(`rule ${e.policy.rule_id}`);
  if (e.request?.id) bits.push(`req ${e.request.id}`);
  return bits.length > 0 ? `  [${bits.join('; ')}]` : '';
}

/** One event as one readable line: time, type, actor, verdict, what, details. */
export function eventLine(e: QuerytrailEvent): string {
  const verdict = verdictOf(e);
  return `${e.time}  ${e.type.padEnd(16)}  ${actorOf(e).padEnd(16)}  ${verdict ? `${verdict}  ` : ''}${whatOf(e)}${detailOf(e)}`;
}
