/**
 * MySQL/MariaDB statements sqlparser-rs does not parse, handled by small exact grammars so valid SQL
 * is not reported `unknown`: `TABLE t ...` and `DO expr` are rewritten to the equivalent SELECT and
 * parsed; `... INTO OUTFILE|DUMPFILE 'f' [export options]` is parsed without the clause (the guard has
 * already flagged it destructive); `LOAD DATA|XML ... INTO TABLE t [(cols)]` and
 * `PREPARE s FROM 'text'|@var` are recognised here and stand in the parse as `SELECT 1`.
 */
import type { Token } from './lexer.js';
import type { Touch } from './objects-ir.js';
import type { TokenStatement } from './split.js';

export interface Supplement {
  parseText: string;
  command?: string;
  /** LOAD DATA: replaces the placeholder's verdict. */
  load?: { touches: Touch[]; local: boolean };
  /** PREPARE ... FROM: the body text, or undefined when it comes from a variable. */
  prepare?: { name: string; body: string | undefined };
}

const EXPORT_WORDS = new Set(['CHARACTER', 'SET', 'CHARSET', 'FIELDS', 'COLUMNS', 'LINES', 'TERMINATED', 'ENCLOSED', 'ESCAPED', 'OPTIONALLY', 'STARTING', 'BY']);

function u(t: Token | undefined): string {
  return t?.type === 'word' ? t.upper : '';
}

export function supplementMy(st: TokenStatement, text: (from: number, to: number) => string): Supplement | undefined {
  const tk = st.tokens;
  const w0 = u(tk[0]);
  const second = tk[1];
  if (w0 === 'TABLE' && second && (second.type === 'word' || second.type === 'qident')) {
    return { parseText: `SELECT * FROM ${text(second.start, st.end)}`, command: 'TABLE' };
  }
  if (w0 === 'DO' && second) {
    return { parseText: `SELECT ${text(second.start, st.end)}`, command: 'DO' };
  }
  if (w0 === 'PREPARE' && second && u(tk[2]) === 'FROM' && tk.length === 4) {
    const src = tk[3]!;
    if (src.type === 'string') return { parseText: 'SELECT 1', command: 'PREPARE', prepare: { name: second.value, body: src.value } };
    if (src.type === 'word' && src.value.startsWith('@')) return { parseText: 'SELECT 1', command: 'PREPARE', prepare: { name: second.value, body: undefined } };
    return undefined;
  }
  if (w0 === 'LOAD' && (u(second) === 'DATA' || u(second) === 'XML')) {
    let i = 2;
    while (u(tk[i]) === 'LOW_PRIORITY' || u(tk[i]) === 'CONCURRENT') i++;
    const local = u(tk[i]) === 'LOCAL';
    if (local) i++;
    if (u(tk[i]) !== 'INFILE' || tk[i + 1]?.type !== 'string') return undefined;
    i += 2;
    if (u(tk[i]) === 'REPLACE' || u(tk[i]) === 'IGNORE') i++;
    if (u(tk[i]) !== 'INTO' || u(tk[i + 1]) !== 'TABLE') return undefined;
    i += 2;
    const parts: string[] = [];
    while (tk[i] && (tk[i]!.type === 'word' || tk[i]!.type === 'qident')) {
      parts.push(tk[i]!.value);
      if (tk[i + 1]?.value !== '.') break;
      i += 2;
    }
    const name = parts.at(-1);
    if (name === undefined) return undefined;
    // The column list is the first top-level (...) that is not a PARTITION list.
    let columns: string[] | undefined;
    for (let j = i + 1; j < tk.length; j++) {
      if (tk[j]!.value === '(' && u(tk[j - 1]) !== 'PARTITION') {
        const cols: string[] = [];
        let k = j + 1;
        while (k < tk.length && tk[k]!.value !== ')') {
          const t = tk[k]!;
          if ((t.type === 'word' || t.type === 'qident') && !t.value.startsWith('@')) cols.push(t.value);
          k++;
        }
        columns = cols;
        break;
      }
    }
    const table = parts.length >= 2 ? { schema: parts[parts.length - 2], name } : { name };
    return { parseText: 'SELECT 1', command: local ? 'LOAD DATA LOCAL' : 'LOAD DATA', load: { local, touches: [{ table, access: 'write', columns }] } };
  }
  const into = tk.findIndex((t, i) => u(t) === 'INTO' && (u(tk[i + 1]) === 'OUTFILE' || u(tk[i + 1]) === 'DUMPFILE'));
  if (into > 0 && tk[into + 2]?.type === 'string') {
    let j = into + 3;
    while (j < tk.length && (EXPORT_WORDS.has(u(tk[j])) || tk[j]!.type === 'string' || (u(tk[j - 1]) === 'SET' && tk[j]!.type === 'word'))) j++;
    const before = text(st.start, tk[into]!.start);
    const after = j < tk.length ? text(tk[j]!.start, st.end) : '';
    return { parseText: `${before} ${after}` };
  }
  return undefined;
}
