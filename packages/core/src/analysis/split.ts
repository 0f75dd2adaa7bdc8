import type { Token } from './lexer.js';

/** A statement as the lexical guard sees it: a run of tokens between top-level semicolons. */
export interface TokenStatement {
  readonly tokens: readonly Token[];
  readonly start: number;
  readonly end: number;
}

/**
 * Splits on `;`, except inside routine bodies whose semicolons belong to the body:
 * PostgreSQL `BEGIN ATOMIC ... END` and MySQL `CREATE ... BEGIN ... END` compound statements.
 * Empty statements (`;;`, trailing `;`) are dropped, as both parsers do.
 */
export function splitStatements(tokens: readonly Token[], mysql: boolean): TokenStatement[] {
  const out: TokenStatement[] = [];
  let cur: Token[] = [];
  let block = 0; // BEGIN ... END nesting inside a routine body
  let caseDepth = 0;
  const flush = (): void => {
    const first = cur[0];
    const last = cur[cur.length - 1];
    if (first && last) out.push({ tokens: cur, start: first.start, end: last.end });
    cur = [];
    block = 0;
    caseDepth = 0;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type === 'semi' && block === 0) {
      flush();
      continue;
    }
    if (t.type === 'word') {
      const u = t.upper;
      if (u === 'BEGIN') {
        const next = tokens[i + 1];
        const first = cur[0];
        if (!mysql && next?.upper === 'ATOMIC') block++;
        else if (mysql && first?.upper === 'CREATE' && next?.type !== 'semi' && next?.upper !== 'WORK') block++;
        else if (block > 0) block++;
      } else if (u === 'CASE' && block > 0) {
        caseDepth++;
      } else if (u === 'END' && block > 0) {
        const next = tokens[i + 1]?.upper;
        // END IF / END LOOP / END WHILE / END REPEAT close other MySQL compound parts.
        if (next === 'IF' || next === 'LOOP' || next === 'WHILE' || next === 'REPEAT') {
          // not a BEGIN block end
        } else if (next === 'CASE') {
          // END CASE: consume CASE too, or it would count as a new CASE
          if (caseDepth > 0) caseDepth--;
          cur.push(t, tokens[i + 1]!);
          i++;
          continue;
        } else if (caseDepth > 0) caseDepth--;
        else block--;
      }
    }
    cur.push(t);
  }
  flush();
  return out;
}
