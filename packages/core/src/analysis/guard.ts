/**
 * The lexical guard: classifies each statement from its tokens alone. It runs before the parser and
 * its verdict is merged with the parser's (the more severe wins), so a parser quirk can never make a
 * statement look safer than its tokens say it is.
 */
import type { Token } from './lexer.js';
import { isProtectedSetting, SIDE_EFFECT_FUNCTIONS, setConfigIsDestructive } from './rules.js';
import { mostSevere } from './severity.js';
import type { TokenStatement } from './split.js';
import type { StatementKind } from './types.js';

export interface GuardVerdict {
  kind: StatementKind;
  command: string;
  destructive: boolean;
  reasons: string[];
  /** The statement changes how later text must be lexed (sql_mode, standard_conforming_strings). */
  changesLexing: boolean;
}

const OBJECT_WORDS = new Set([
  'TABLE', 'VIEW', 'INDEX', 'SCHEMA', 'DATABASE', 'FUNCTION', 'PROCEDURE', 'ROLE', 'USER', 'SEQUENCE',
  'TRIGGER', 'EXTENSION', 'TYPE', 'MATERIALIZED', 'SYSTEM', 'EVENT', 'DOMAIN', 'POLICY', 'SERVER',
  'PUBLICATION', 'SUBSCRIPTION', 'TABLESPACE', 'COLLATION', 'AGGREGATE', 'OPERATOR', 'RULE', 'OWNED',
  'DEFAULT', 'GROUP', 'LANGUAGE', 'STATISTICS', 'TEMPORARY', 'TEMP', 'UNIQUE', 'UNLOGGED', 'FOREIGN',
  'TABLES', 'PLUGIN', 'COMPONENT', 'LOGFILE', 'RESOURCE', 'SPATIAL', 'FULLTEXT', 'ALGORITHM', 'DEFINER',
  'SQL', 'CONVERSION', 'CAST', 'ACCESS', 'TEXT', 'ROUTINE', 'PROCEDURAL',
]);

const FIRST_WORD_KIND: ReadonlyMap<string, StatementKind> = new Map<string, StatementKind>([
  ['SELECT', 'read'], ['VALUES', 'read'], ['TABLE', 'read'], ['SHOW', 'read'], ['DESCRIBE', 'read'],
  ['DESC', 'read'], ['EXPLAIN', 'read'], ['WITH', 'read'], ['FETCH', 'read'], ['DECLARE', 'read'],
  ['MOVE', 'read'], ['CLOSE', 'read'], ['HANDLER', 'read'], ['HELP', 'read'],
  ['INSERT', 'write'], ['UPDATE', 'write'], ['DELETE', 'write'], ['MERGE', 'write'], ['REPLACE', 'write'],
  ['COPY', 'write'], ['LOAD', 'write'], ['REFRESH', 'write'],
  ['CREATE', 'ddl'], ['DROP', 'ddl'], ['ALTER', 'ddl'], ['TRUNCATE', 'ddl'], ['RENAME', 'ddl'],
  ['COMMENT', 'ddl'], ['IMPORT', 'ddl'], ['SECURITY', 'ddl'],
  ['GRANT', 'dcl'], ['REVOKE', 'dcl'], ['REASSIGN', 'dcl'],
  ['BEGIN', 'tcl'], ['START', 'tcl'], ['COMMIT', 'tcl'], ['ROLLBACK', 'tcl'], ['SAVEPOINT', 'tcl'],
  ['RELEASE', 'tcl'], ['END', 'tcl'], ['ABORT', 'tcl'], ['XA', 'tcl'], ['LOCK', 'tcl'], ['UNLOCK', 'tcl'],
  ['PREPARE', 'exec'], ['EXECUTE', 'exec'], ['CALL', 'exec'], ['DEALLOCATE', 'admin'],
  ['SET', 'admin'], ['RESET', 'admin'], ['USE', 'admin'], ['KILL', 'admin'], ['VACUUM', 'admin'],
  ['ANALYZE', 'admin'], ['ANALYSE', 'admin'], ['CHECKPOINT', 'admin'], ['DISCARD', 'admin'],
  ['LISTEN', 'admin'], ['NOTIFY', 'admin'], ['UNLISTEN', 'admin'], ['FLUSH', 'admin'], ['PURGE', 'admin'],
  ['INSTALL', 'admin'], ['UNINSTALL', 'admin'], ['SHUTDOWN', 'admin'], ['RESTART', 'admin'],
  ['OPTIMIZE', 'admin'], ['REPAIR', 'admin'], ['CHECK', 'admin'], ['CHECKSUM', 'admin'],
  ['CLUSTER', 'admin'], ['REINDEX', 'admin'], ['CHANGE', 'admin'], ['STOP', 'admin'], ['BINLOG', 'admin'],
  ['CACHE', 'admin'], ['DO', 'exec'],
]);

/** First words that are destructive whatever follows. */
const DESTRUCTIVE_FIRST = new Map<string, string>([
  ['DROP', 'DROP'], ['TRUNCATE', 'TRUNCATE'], ['ALTER', 'ALTER'], ['RENAME', 'RENAME'], ['GRANT', 'GRANT'],
  ['REVOKE', 'REVOKE'], ['REASSIGN', 'REASSIGN OWNED'], ['KILL', 'KILL: terminates a session'],
  ['SHUTDOWN', 'SHUTDOWN'], ['RESTART', 'RESTART'], ['INSTALL', 'INSTALL: loads server code'],
  ['UNINSTALL', 'UNINSTALL: removes a server plugin (audit plugins included)'], ['PURGE', 'PURGE: deletes logs'],
  ['CALL', 'dynamic SQL: CALL'], ['BINLOG', 'BINLOG: replays binary log events'],
]);

/** Previous tokens after which DELETE/UPDATE start a data-changing statement or CTE body. */
const DML_LEAD = new Set(['', '(', ')', 'AS', 'ANALYZE', 'ANALYSE', 'VERBOSE', 'EXPLAIN']);

function leadOf(t: Token | undefined): string {
  if (!t) return '';
  return t.type === 'word' ? t.upper : t.type === 'op' ? t.value : '#';
}

/** True when the DML starting at index i has a WHERE at its own paren depth. */
function hasWhere(tokens: readonly Token[], i: number): boolean {
  let depth = 0;
  for (let j = i + 1; j < tokens.length; j++) {
    const t = tokens[j]!;
    if (t.type === 'op') {
      if (t.value === '(') depth++;
      else if (t.value === ')') {
        if (depth === 0) return false;
        depth--;
      }
    } else if (depth === 0 && t.type === 'word' && t.upper === 'WHERE') return true;
  }
  return false;
}

/** Dotted names (`pgaudit.log`, `@@session.sql_log_bin`) made of adjacent word tokens. */
function dottedNames(tokens: readonly Token[]): string[] {
  const names: string[] = [];
  let cur = '';
  let prevEnd = -1;
  for (const t of tokens) {
    const isName = t.type === 'word' || t.type === 'qident';
    const isDot = t.type === 'op' && t.value === '.';
    if ((isName || isDot) && (t.start === prevEnd || cur === '')) {
      cur += t.value;
      prevEnd = t.end;
      continue;
    }
    if (cur) names.push(cur);
    cur = isName ? t.value : '';
    prevEnd = isName ? t.end : -1;
  }
  if (cur) names.push(cur);
  return names;
}

function commandOf(tokens: readonly Token[]): string {
  const a = tokens[0];
  if (!a) return '';
  if (a.type !== 'word') return a.value.toUpperCase();
  let cmd = a.upper;
  let k = 1;
  // CREATE OR REPLACE VIEW, CREATE UNIQUE INDEX, DROP MATERIALIZED VIEW, ...
  while (k < 4) {
    const b = tokens[k];
    if (b?.type !== 'word') break;
    if (b.upper === 'OR' || b.upper === 'REPLACE' || OBJECT_WORDS.has(b.upper)) {
      if (b.upper !== 'OR' && b.upper !== 'REPLACE') {
        cmd += ` ${b.upper}`;
        if (b.upper !== 'MATERIALIZED' && b.upper !== 'UNIQUE' && b.upper !== 'TEMPORARY' && b.upper !== 'TEMP' && b.upper !== 'UNLOGGED' && b.upper !== 'FOREIGN') break;
      }
      k++;
      continue;
    }
    break;
  }
  if (a.upper === 'START' || a.upper === 'SET' && tokens[1]?.upper === 'TRANSACTION') {
    const b = tokens[1];
    if (b?.type === 'word') cmd += ` ${b.upper}`;
  }
  return cmd;
}

export function guardStatement(st: TokenStatement, mysql: boolean): GuardVerdict {
  // `(SELECT ...) UNION (SELECT ...)`: leading parentheses do not change what the statement is.
  let lead = 0;
  while (st.tokens[lead]?.type === 'op' && st.tokens[lead]?.value === '(') lead++;
  const tokens = lead > 0 ? st.tokens.slice(lead) : st.tokens;
  const first = tokens[0];
  const v: GuardVerdict = { kind: 'unknown', command: commandOf(tokens), destructive: false, reasons: [], changesLexing: false };
  if (first?.type !== 'word') {
    v.reasons.push('statement does not start with a keyword');
    return v;
  }
  const w0 = first.upper;
  const w1 = tokens[1]?.type === 'word' ? tokens[1].upper : '';
  const flag = (reason: string, kind?: StatementKind): void => {
    v.destructive = true;
    if (!v.reasons.includes(reason)) v.reasons.push(reason);
    if (kind) v.kind = mostSevere(v.kind, kind);
  };

  let kind = FIRST_WORD_KIND.get(w0) ?? 'unknown';
  if (w0 === 'DO' && mysql) kind = 'read'; // MySQL DO evaluates expressions, it is not dynamic SQL
  if ((w0 === 'CREATE' || w0 === 'ALTER' || w0 === 'DROP') && (w1 === 'ROLE' || w1 === 'USER' || w1 === 'GROUP')) kind = 'dcl';
  if (w0 === 'ALTER' && (w1 === 'SYSTEM' || w1 === 'INSTANCE')) kind = 'admin';
  if (w0 === 'SET' && (w1 === 'ROLE' || w1 === 'PASSWORD' || w1 === 'DEFAULT')) kind = 'dcl';
  if ((w0 === 'SET' || w0 === 'START') && w1 === 'TRANSACTION') kind = 'tcl';
  if (w0 === 'SET' && w1 === 'CONSTRAINTS') kind = 'tcl';
  if (w0 === 'LOAD' && !mysql) kind = 'admin';
  if ((w0 === 'SHOW' || w0 === 'DESCRIBE' || w0 === 'DESC') && mysql) kind = 'read';
  v.kind = kind;

  const destructiveFirst = DESTRUCTIVE_FIRST.get(w0);
  if (destructiveFirst && !(w0 === 'ALTER' && (w1 === 'SESSION'))) flag(destructiveFirst);
  if (w0 === 'DO' && !mysql) flag('dynamic SQL: DO', 'exec');
  if (w0 === 'LOAD' && !mysql) flag('LOAD: loads a server library', 'admin');
  if (w0 === 'RESET' && mysql && (w1 === 'MASTER' || w1 === 'REPLICA' || w1 === 'SLAVE' || w1 === 'BINARY')) flag('RESET: deletes logs', 'admin');
  if (w0 === 'CHANGE' && mysql) flag('CHANGE REPLICATION', 'admin');
  if (w0 === 'CREATE' && w1 === 'OR' && tokens[2]?.upper === 'REPLACE' && tokens[3]?.upper === 'TABLE') flag('CREATE OR REPLACE TABLE drops the existing table');

  if (w0 === 'PREPARE' && !mysql) {
    // PREPARE name [(types)] AS body: the statement is what its body is.
    const as = tokens.findIndex((t) => t.type === 'word' && t.upper === 'AS');
    const body = tokens.slice(as + 1);
    if (as > 0 && body.length > 0) {
      const inner = guardStatement({ tokens: body, start: body[0]!.start, end: body[body.length - 1]!.end }, mysql);
      v.kind = inner.kind;
      if (inner.destructive) v.destructive = true;
      v.reasons.push(...inner.reasons);
      return v;
    }
  }
  if (w0 === 'PREPARE' && mysql) v.kind = 'read'; // the body (a string) is analyzed on its own

  const explainOnly = (w0 === 'EXPLAIN' || w0 === 'DESCRIBE' || w0 === 'DESC') && !tokens.some((t) => t.type === 'word' && (t.upper === 'ANALYZE' || t.upper === 'ANALYSE'));

  // Settings that switch auditing/logging off, or change how later text lexes.
  if (w0 === 'SET' || w0 === 'RESET' || (w0 === 'ALTER' && (w1 === 'SYSTEM' || w1 === 'DATABASE' || w1 === 'ROLE' || w1 === 'USER'))) {
    for (const name of dottedNames(tokens)) {
      const n = name.toLowerCase();
      if (isProtectedSetting(n)) flag(`audit/log setting changed: ${n}`, 'admin');
      if (n === 'sql_mode' || n.endsWith('.sql_mode') || n === 'standard_conforming_strings' || n === 'backslash_quote') v.changesLexing = true;
      if (/^@@(global|persist|persist_only)\./.test(n)) flag('server-wide setting changed', 'admin');
    }
    if (mysql && w0 === 'SET' && (w1 === 'GLOBAL' || w1 === 'PERSIST' || w1 === 'PERSIST_ONLY')) flag('server-wide setting changed', 'admin');
    if (w0 === 'ALTER' && w1 === 'SYSTEM') flag('ALTER SYSTEM', 'admin');
    if (w0 === 'RESET' && w1 === 'ALL') flag('RESET ALL may restore audit settings to defaults', 'admin');
  }

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== 'word' && t.type !== 'qident') continue;
    const u = t.type === 'word' ? t.upper : t.value.toUpperCase();
    const next = tokens[i + 1];

    if (!explainOnly && (u === 'DELETE' || u === 'UPDATE') && t.type === 'word' && DML_LEAD.has(leadOf(tokens[i - 1]))) {
      if (i > 0) v.kind = mostSevere(v.kind, 'write');
      if (!hasWhere(tokens, i)) flag(`${u} without WHERE`, 'write');
    }
    if (!explainOnly && (u === 'INSERT' || u === 'MERGE') && t.type === 'word' && i > 0 && DML_LEAD.has(leadOf(tokens[i - 1]))) {
      v.kind = mostSevere(v.kind, 'write');
    }
    if (next?.type === 'op' && next.value === '(' && !explainOnly) {
      const rule = SIDE_EFFECT_FUNCTIONS.get(u.toLowerCase());
      if (rule && tokens[i - 1]?.upper !== 'FUNCTION' && tokens[i - 1]?.upper !== 'PROCEDURE') {
        const arg = tokens[i + 2];
        const literal = arg?.type === 'string' && tokens[i + 3]?.value === ',' ? arg.value : undefined;
        if (u === 'SET_CONFIG') {
          v.kind = mostSevere(v.kind, 'admin');
          if (setConfigIsDestructive(literal)) flag(`set_config changes ${literal ?? 'a setting'}`, 'admin');
        } else flag(`${u.toLowerCase()}(): ${rule.reason}`, rule.kind);
      }
    }
    if (mysql && u === 'INTO' && (next?.upper === 'OUTFILE' || next?.upper === 'DUMPFILE')) flag(`INTO ${next.upper}: writes a server file`);
  }

  if (w0 === 'COPY' && !mysql) {
    let depth = 0;
    const dirIdx = tokens.findIndex((t, i) => {
      if (t.value === '(') depth++;
      else if (t.value === ')') depth--;
      return i > 0 && depth === 0 && t.type === 'word' && (t.upper === 'TO' || t.upper === 'FROM');
    });
    const dir = tokens[dirIdx];
    const target = tokens[dirIdx + 1];
    if (dir?.upper === 'TO') v.kind = 'read';
    if (target?.upper === 'PROGRAM') flag(`COPY ${dir?.upper ?? ''} PROGRAM: runs a server command`, 'admin');
    else if (target?.type === 'string') flag(`COPY ${dir?.upper ?? ''} a server file`, 'admin');
  }
  if (w0 === 'LOAD' && mysql) {
    const local = tokens.slice(1, 6).some((t) => t.upper === 'LOCAL');
    if (!local) flag('LOAD DATA INFILE: reads a server file');
  }
  return v;
}
