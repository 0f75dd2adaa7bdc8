/**
 * Fingerprint: the statement's shape with literals and parameters replaced by `?`, IN-lists and
 * multi-row VALUES collapsed to one element, comments dropped, whitespace normalised, keywords
 * upper-cased; identifiers (schema included) are kept as written. Built from the guard's tokens, so
 * MySQL executable-comment content (which is code) stays in, and it works even when parsing fails.
 */
import type { Token } from './lexer.js';
import type { TokenStatement } from './split.js';

const KEYWORDS = new Set(
  ('SELECT FROM WHERE AND OR NOT IN IS NULL AS ON JOIN LEFT RIGHT INNER OUTER FULL CROSS NATURAL LATERAL USING ' +
    'GROUP BY ORDER HAVING LIMIT OFFSET UNION ALL DISTINCT INSERT INTO VALUES UPDATE SET DELETE RETURNING WITH ' +
    'RECURSIVE CASE WHEN THEN ELSE END EXISTS BETWEEN LIKE ILIKE ASC DESC NULLS FIRST LAST FOR SHARE NOWAIT SKIP ' +
    'LOCKED CREATE TABLE DROP ALTER TRUNCATE INDEX VIEW IF CASCADE RESTRICT GRANT REVOKE BEGIN COMMIT ROLLBACK ' +
    'START TRANSACTION SAVEPOINT RELEASE EXPLAIN ANALYZE COPY DO CALL EXECUTE PREPARE DEALLOCATE MERGE MATCHED ' +
    'CONFLICT NOTHING REPLACE DUPLICATE KEY PRIMARY DEFAULT TRUE FALSE INTERVAL ANY SOME EXCEPT INTERSECT ' +
    'WINDOW OVER PARTITION ROWS RANGE FETCH NEXT ONLY TO PROGRAM STDIN STDOUT OUTFILE DUMPFILE LOAD DATA INFILE ' +
    'LOCAL SHOW DESCRIBE USE KILL RENAME COLUMN ADD CONSTRAINT REFERENCES FOREIGN UNIQUE CHECK SCHEMA DATABASE ' +
    'GLOBAL SESSION ROLE USER PRIVILEGES IGNORE STRAIGHT_JOIN HIGH_PRIORITY LOW_PRIORITY FILTER WITHIN COLLATE').split(' '),
);

function render(t: Token, mysql: boolean): string {
  switch (t.type) {
    case 'string':
    case 'number':
    case 'param':
      return '?';
    case 'word':
      if (KEYWORDS.has(t.upper)) return t.upper;
      return mysql ? t.value : t.value.toLowerCase();
    case 'qident':
      return mysql ? `\`${t.value}\`` : `"${t.value.replace(/"/g, '""')}"`;
    default:
      return t.value;
  }
}

/** Collapses `( ?, ?, ? )` → `( ? )` (IN lists) and `( a ), ( a ), ...` → `( a )` (multi-row VALUES). */
function collapse(parts: readonly string[]): string[] {
  const a: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '(' && parts[i + 1] === '?' && (parts[i - 1] === 'IN' || parts[i - 1] === 'ANY')) {
      let j = i + 1;
      while (parts[j] === '?' && parts[j + 1] === ',') j += 2;
      if (parts[j] === '?' && parts[j + 1] === ')') {
        a.push('(', '?', ')');
        i = j + 1;
        continue;
      }
    }
    a.push(parts[i]!);
  }
  const b: string[] = [];
  for (let i = 0; i < a.length; i++) {
    b.push(a[i]!);
    if (a[i] !== ')') continue;
    const open = b.lastIndexOf('(');
    if (open < 0 || b.slice(open + 1, -1).includes(')')) continue;
    const tuple = b.slice(open).join('\u0000');
    const len = b.length - open;
    while (a[i + 1] === ',' && a[i + 2] === '(' && a.slice(i + 2, i + 2 + len).join('\u0000') === tuple) i += 1 + len;
  }
  return b;
}

const NO_SPACE_BEFORE = new Set([',', ')', '.', ':', ']']);
const NO_SPACE_AFTER = new Set(['(', '.', ':', '[', '@']);

export function fingerprintStatements(statements: readonly TokenStatement[], mysql: boolean): string {
  const outs: string[] = [];
  for (const st of statements) {
    const parts = collapse(st.tokens.map((t) => render(t, mysql)));
    let s = '';
    let prev = '';
    for (const p of parts) {
      if (s !== '' && !NO_SPACE_BEFORE.has(p) && !NO_SPACE_AFTER.has(prev)) s += ' ';
      s += p;
      prev = p;
    }
    outs.push(s);
  }
  return outs.join('; ');
}
