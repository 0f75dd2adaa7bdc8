/**
 * db.query.summary (OpenTelemetry semantic conventions): operations and the tables they target, in
 * the order they appear, e.g. `SELECT users JOIN orders`, `INSERT audit_log SELECT users`,
 * `DROP TABLE x`. Statements are joined with `; `; the result is capped at 255 characters as the
 * convention recommends. Built from tokens, so it exists even for text the parser rejected.
 */
import type { Token } from './lexer.js';
import type { TokenStatement } from './split.js';

const OPS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'REPLACE', 'VALUES']);
const OP_LEAD = new Set(['', '(', ')', 'UNION', 'ALL', 'AS', 'INTERSECT', 'EXCEPT', 'DISTINCT', 'ANALYZE', 'EXPLAIN', 'VERBOSE']);
const INTRODUCERS = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'USING', 'TABLE', 'TRUNCATE', 'ON', 'VIEW', 'COPY', 'LOCK', 'TABLES']);
const SKIP = new Set(['IF', 'NOT', 'EXISTS', 'ONLY', 'LATERAL', 'TABLE', 'LOW_PRIORITY', 'QUICK', 'IGNORE', 'CONCURRENTLY']);
const NOT_NAMES = new Set(['SELECT', 'OUTFILE', 'DUMPFILE', 'WHERE', 'SET', 'VALUES', 'DUPLICATE', 'CONFLICT', 'COMMIT', 'DELETE', 'DEFAULT', 'STDIN', 'STDOUT', 'PROGRAM', 'TRUE', 'FALSE', 'NULL', 'LOCAL']);
const MAX = 255;

function lead(t: Token | undefined): string {
  if (!t) return '';
  return t.type === 'word' ? t.upper : t.type === 'op' ? t.value : '#';
}

/** Reads `a.b.c` starting at i; returns [name, nextIndex] or undefined. */
function qualified(tokens: readonly Token[], i: number, tableFunctions: boolean): [string, number] | undefined {
  const first = tokens[i];
  if (!first || (first.type !== 'word' && first.type !== 'qident')) return undefined;
  if (first.type === 'word' && NOT_NAMES.has(first.upper)) return undefined;
  let name = first.value;
  let j = i + 1;
  while (tokens[j]?.value === '.' && (tokens[j + 1]?.type === 'word' || tokens[j + 1]?.type === 'qident')) {
    name += `.${tokens[j + 1]!.value}`;
    j += 2;
  }
  // A function call (FROM generate_series(...)) is not a table.
  if (tokens[j]?.value === '(' && tableFunctions) return undefined;
  return [name, j];
}

function statementSummary(st: TokenStatement, command: string): string {
  const tokens = st.tokens;
  const parts: string[] = [];
  const first = tokens[0];
  if (first && !(first.type === 'word' && OPS.has(first.upper)) && first.upper !== 'WITH') parts.push(command || first.value.toUpperCase());
  let lastWasOp = parts.length > 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'word') continue;
    const u = t.upper;
    const isOp = OPS.has(u) && OP_LEAD.has(lead(tokens[i - 1])) && !(u === 'VALUES' && i > 0);
    if (isOp) {
      if (!(lastWasOp && parts[parts.length - 1] === u)) parts.push(u);
      lastWasOp = true;
      if (u !== 'UPDATE') continue;
    }
    if (!INTRODUCERS.has(u) || (u === 'UPDATE' && !isOp)) continue;
    if ((u === 'FROM' || u === 'TO') && (first?.upper === 'GRANT' || first?.upper === 'REVOKE')) continue;
    if (u === 'ON' && !tokens.slice(0, i).some((x) => x.upper === 'INDEX' || x.upper === 'GRANT' || x.upper === 'REVOKE' || x.upper === 'TRIGGER')) continue;
    let j = i + 1;
    while (tokens[j]?.type === 'word' && SKIP.has(tokens[j]!.upper)) j++;
    for (;;) {
      const q = qualified(tokens, j, u === 'FROM' || u === 'JOIN' || u === 'USING');
      if (!q) break;
      if (u === 'JOIN' && parts.length > 0) parts.push('JOIN');
      parts.push(q[0]);
      lastWasOp = false;
      j = q[1];
      // FROM a x, b y: comma-separated tables (skip an alias first).
      if (tokens[j]?.upper === 'AS') j++;
      if ((tokens[j]?.type === 'word' || tokens[j]?.type === 'qident') && tokens[j + 1]?.value === ',') j++;
      if (tokens[j]?.value === ',' && (u === 'FROM' || u === 'TRUNCATE' || u === 'TABLE' || u === 'USING' || u === 'TABLES')) {
        j++;
        continue;
      }
      break;
    }
    // Continue after the names just read, so `TRUNCATE TABLE t` or `INTO TABLE t` is read once.
    if (j > i + 1) i = j - 1;
  }
  return parts.join(' ');
}

export function summarize(statements: readonly TokenStatement[], commands: readonly string[]): string {
  const s = statements.map((st, i) => statementSummary(st, commands[i] ?? '')).join('; ');
  return s.length > MAX ? s.slice(0, MAX) : s;
}
