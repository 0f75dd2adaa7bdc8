import type { QuerytrailEvent } from '@querytrail/core';
import { oneLine, safeText } from './safe-text.js';

const MAX_TEXT = 160;

function actorOf(e: QuerytrailEvent): string {
  if (!e.actor) return '-';
  const via = e.actor.impersonator ? ` (via ${safeText(e.actor.impersonator.id)})` : '';
  return `${safeText(e.actor.type)}:${safeText(e.actor.id)}${via}`;
}

/** What the event says happened, in a few words: the statement, a gap's loss, a chain's start. */
function whatOf(e: QuerytrailEvent): string {
  if (e.gap) {
    const seqs = e.gap.first_seq === undefined ? '' : ` (seq ${safeText(e.gap.first_seq)}..${safeText(e.gap.last_seq)})`;
    // A recording failure's gap names the statement that went without its record.
    const statement = e.statement ? `; statement: ${oneLine(e.statement.text ?? e.statement.summary ?? e.statement.command, MAX_TEXT)}` : '';
    return `${safeText(e.gap.count)} record(s) lost${seqs}: ${oneLine(e.gap.cause)}${statement}`;
  }
  if (e.genesis) {
    const after = e.genesis.previous ? `, after chain ${safeText(e.genesis.previous.chain_id)} seq ${safeText(e.genesis.previous.seq)}` : '';
    return `chain ${safeText(e.integrity?.chain_id ?? '?')} starts: ${safeText(e.genesis.reason)}${after}`;
  }
  if (e.alert) return `${safeText(e.alert.kind)} ${safeText(e.alert.severity)}: ${oneLine(e.alert.reason)}`;
  if ((e.type === 'sdk.start' || e.type === 'sdk.stop') && e.source?.service) {
    const svc = e.source.service;
    return oneLine(`${svc.name}${svc.env ? ` (${svc.env})` : ''} pid ${String(e.source.pid)} on ${e.source.host}, ${e.source.sdk?.name} ${e.source.sdk?.version}`);
  }
  if (e.statement) return oneLine(e.statement.text ?? e.statement.summary ?? e.statement.command ?? '', MAX_TEXT);
  if (e.db) return oneLine(`${e.db.system} ${e.db.server?.address ?? ''}${e.db.server?.port ? `:${e.db.server.port}` : ''}`);
  return '';
}

/**
 * What happened first (BLOCKED, FAILED 42P01, ok), then what policy said of it (would-block, OVERRIDE,
 * ALERT): a monitor-mode statement that failed is a failure that would also have been blocked.
 */
function verdictOf(e: QuerytrailEvent): string {
  const parts: string[] = [];
  const outcome = e.result?.outcome;
  if (outcome === 'blocked') parts.push('BLOCKED');
  else if (outcome === 'failure') parts.push(`FAILED${e.result?.error?.code ? ` ${safeText(e.result.error.code)}` : ''}`);
  else if (outcome === 'success') parts.push('ok');
  const decision = e.policy?.decision;
  if (decision === 'block' && e.policy?.mode === 'monitor') parts.push('would-block');
  else if (decision === 'block' && outcome !== 'blocked') parts.push('BLOCK');
  else if (decision === 'allow_override') parts.push('OVERRIDE');
  else if (decision === 'alert') parts.push('ALERT');
  return parts.join(', ');
}

function detailOf(e: QuerytrailEvent): string {
  const bits: string[] = [];
  if (e.result?.rows_returned !== undefined) bits.push(`${safeText(e.result.rows_returned)} rows`);
  if (e.result?.rows_affected !== undefined) bits.push(`${safeText(e.result.rows_affected)} affected`);
  if (typeof e.duration_us === 'number') bits.push(`${(e.duration_us / 1000).toFixed(1)} ms`);
  const tags = e.sensitivity?.tags ?? [];
  if (tags.length > 0) bits.push(`tags ${tags.map(safeText).join(',')}`);
  if (e.policy?.rule_id && e.policy.decision !== 'allow') bits.push(`rule ${safeText(e.policy.rule_id)}`);
  if (e.request?.id) bits.push(`req ${safeText(e.request.id)}`);
  return bits.length > 0 ? `  [${bits.join('; ')}]` : '';
}

/** One event as one readable line: time, type, actor, verdict, what, details. */
export function eventLine(e: QuerytrailEvent): string {
  const verdict = verdictOf(e);
  return `${safeText(e.time)}  ${safeText(e.type).padEnd(16)}  ${actorOf(e).padEnd(16)}  ${verdict ? `${verdict}  ` : ''}${whatOf(e)}${detailOf(e)}`;
}
