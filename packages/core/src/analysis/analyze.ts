/**
 * One uncached analysis: guard (lexer, splitter, lexical verdicts) → dialect parser → reconciliation
 * → objects, fingerprint, summary. Reconciliation never downgrades: per statement the more severe kind
 * and the union of destructive findings win; a parse error, a statement-count mismatch between guard
 * and parser, or an empty parse of non-empty text makes the whole result `unknown`.
 */
import type { Catalog } from './catalog.js';
import { fingerprintStatements } from './fingerprint.js';
import { guardStatement, type GuardVerdict } from './guard.js';
import { type LexResult, lex, type Token } from './lexer.js';
import { classifyMy } from './mysql-classifier.js';
import { type Supplement, supplementMy } from './mysql-supplement.js';
import { ObjectCollector } from './objects-ir.js';
import { collectMy } from './objects-mysql.js';
import { collectPg } from './objects-postgres.js';
import { parsers } from './parsers.js';
import { classifyPg, type Verdict } from './postgres-classifier.js';
import { mostSevere } from './severity.js';
import { splitStatements, type TokenStatement } from './split.js';
import { summarize } from './summary.js';
import type { Analysis, AnalyzedObject, AnalyzedStatement, AnalyzeOptions, StatementKind } from './types.js';

export interface Limits {
  /** Texts longer than this (in UTF-16 code units) are not lexed or parsed. */
  maxLength: number;
}

export const DEFAULT_MAX_LENGTH = 100_000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting NUL is the point
const NUL = /\u0000/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting NUL is the point
const SUSPICIOUS = /[\u0000\uD800-\uDFFF\uFFFD]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** A result for input that could not be examined: unknown, and destructive unless ruled out. */
export function unknownResult(reason: string, destructive = true, error?: string): Analysis {
  const a: Analysis = {
    kind: 'unknown',
    destructive,
    statementCount: 0,
    commands: [],
    statements: [],
    objects: [],
    fingerprint: '',
    summary: '',
    reasons: [reason],
    ...(error === undefined ? {} : { error }),
  };
  return deepFreeze(a);
}

function reencodeString(t: Token, mysql: boolean): string {
  // Standard-conforming form: the parser then sees the same boundaries the guard (and the server) saw.
  const body = t.value.replace(/'/g, "''");
  return mysql ? `'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/** The statement's text for the parser: executable-comment markers blanked, strings re-encoded if asked. */
function statementText(sql: string, st: TokenStatement, lexed: LexResult, reencode: boolean, mysql: boolean): (from: number, to: number) => string {
  return (from, to) => {
    let out = '';
    let pos = from;
    const cuts: Array<[number, number, string]> = [];
    for (const [a, b] of lexed.markers) if (a >= from && b <= to) cuts.push([a, b, ' '.repeat(b - a)]);
    if (reencode) for (const t of st.tokens) if (t.type === 'string' && t.start >= from && t.end <= to) cuts.push([t.start, t.end, ` ${reencodeString(t, mysql)} `]);
    cuts.sort((x, y) => x[0] - y[0]);
    for (const [a, b, r] of cuts) {
      if (a < pos) continue;
      out += sql.slice(pos, a) + r;
      pos = b;
    }
    return out + sql.slice(pos, to);
  };
}

interface StatementResult {
  kind: StatementKind;
  command: string;
  destructive: boolean;
  reasons: string[];
  name?: string;
  body?: Analysis;
}

function merge(g: GuardVerdict, p: Verdict): StatementResult {
  const r: StatementResult = {
    kind: mostSevere(g.kind, p.kind),
    command: p.command || g.command,
    destructive: g.destructive || p.destructive,
    // A guard reason the parser already said more precisely ('DROP' vs 'DROP TABLE') is dropped.
    reasons: uniq([...p.reasons, ...g.reasons.filter((gr) => !p.reasons.some((pr) => pr !== gr && pr.startsWith(gr)))]),
  };
  if (p.name !== undefined) r.name = p.name;
  return r;
}

export function analyzeUncached(sql: unknown, opts: AnalyzeOptions, limits: Limits, depth = 0): Analysis {
  if (typeof sql !== 'string') return unknownResult(`sql is not a string (${sql === null ? 'null' : typeof sql})`);
  if (sql.length > limits.maxLength) return unknownResult(`statement longer than ${limits.maxLength} characters: not parsed`);
  // One cheap scan on the hot path; the precise checks only when something suspicious is present.
  if (SUSPICIOUS.test(sql)) {
    if (NUL.test(sql)) return unknownResult('NUL byte in statement text');
    if (LONE_SURROGATE.test(sql) || sql.includes('\uFFFD')) return unknownResult('invalid UTF-8 in statement text');
  }
  const dialect = opts.dialect;
  if (dialect !== 'postgres' && dialect !== 'mysql' && dialect !== 'mariadb') return unknownResult(`unsupported dialect ${String(dialect)}`);
  const mysql = dialect !== 'postgres';
  const backslashEscapes = opts.backslashEscapes ?? true;
  const scs = opts.standardConformingStrings ?? true;

  const lexed = lex(sql, { mysql, backslashEscapes, standardConformingStrings: scs });
  if (lexed.error !== undefined) return unknownResult(`lexer: ${lexed.error}`, true, lexed.error);
  const stmts = splitStatements(lexed.tokens, mysql);
  if (stmts.length === 0) return unknownResult('empty statement (no SQL outside comments)', false);

  const guards = stmts.map((s) => guardStatement(s, mysql));
  const fingerprint = fingerprintStatements(stmts, mysql);
  const reasons: string[] = [];
  if (lexed.executableComments > 0) reasons.push(`executable comment: its content is analyzed as code`);

  const fail = (reason: string, error?: string): Analysis => {
    const statements: AnalyzedStatement[] = guards.map((g) => ({ kind: 'unknown', command: g.command, destructive: g.destructive, reasons: g.reasons }));
    const a: Analysis = {
      kind: 'unknown',
      destructive: guards.some((g) => g.destructive),
      statementCount: stmts.length,
      commands: guards.map((g) => g.command),
      statements,
      objects: [],
      fingerprint,
      summary: summarize(stmts, guards.map((g) => g.command)),
      reasons: uniq([reason, ...reasons, ...guards.flatMap((g) => g.reasons)]),
      ...(error === undefined ? {} : { error }),
    };
    return deepFreeze(a);
  };

  const changer = guards.findIndex((g) => g.changesLexing);
  if (changer >= 0 && changer < guards.length - 1) return fail('a statement changes string-lexing settings (sql_mode / standard_conforming_strings) before later statements in the same text');

  const p = parsers();
  if (!p) return fail('parser not loaded');

  const reencode = mysql ? !backslashEscapes : !scs;
  const supplements: Array<Supplement | undefined> = [];
  let parsed: unknown[];
  try {
    if (mysql) {
      const pieces = stmts.map((st) => {
        const text = statementText(sql, st, lexed, reencode, true);
        const sup = supplementMy(st, text);
        supplements.push(sup);
        return sup ? sup.parseText : text(st.start, st.end);
      });
      const r = p.mysql(pieces.join(';\n'), 'mysql');
      parsed = Array.isArray(r) ? r : [];
    } else {
      const text = reencode && stmts.length > 0 ? stmts.map((st) => statementText(sql, st, lexed, true, false)(st.start, st.end)).join(';\n') : sql;
      let r: { stmts?: Array<{ stmt?: unknown }> };
      try {
        r = p.pg(text) as typeof r;
      } catch (e) {
        // Query-builder text (Knex toSQL) uses `?` placeholders, which PostgreSQL would read as an
        // operator: retry once with them numbered. The guard's verdict is merged either way.
        const qs = lexed.tokens.filter((t) => t.type === 'param' && t.value === '?');
        if (qs.length === 0 || reencode) throw e;
        let out = '';
        let pos = 0;
        qs.forEach((t, k) => {
          out += `${sql.slice(pos, t.start)}$${k + 1}`;
          pos = t.end;
        });
        r = p.pg(out + sql.slice(pos)) as typeof r;
      }
      parsed = (r.stmts ?? []).map((s) => s.stmt);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return fail('parse error', msg);
  }
  if (parsed.length === 0) return fail('parser returned no statement for non-empty text');
  if (parsed.length !== stmts.length) return fail(`statement count mismatch: guard ${stmts.length}, parser ${parsed.length}`);

  const collector = new ObjectCollector(opts.catalog as Catalog | undefined, mysql);
  const prepared = new Map<string, Analysis | undefined>();
  const results: StatementResult[] = [];
  for (let i = 0; i < stmts.length; i++) {
    const g = guards[i]!;
    const node = parsed[i];
    const sup = supplements[i];
    let v: Verdict;
    let body: Analysis | undefined;
    if (sup?.load) {
      v = { kind: 'write', command: sup.command ?? 'LOAD DATA', destructive: !sup.load.local, reasons: sup.load.local ? [] : ['LOAD DATA INFILE: reads a server file'] };
      for (const t of sup.load.touches) collector.touch(t);
    } else if (sup?.prepare) {
      v = { kind: 'exec', command: 'PREPARE', destructive: true, reasons: [], name: sup.prepare.name };
      if (sup.prepare.body !== undefined && depth < 3) {
        body = analyzeUncached(sup.prepare.body, opts, limits, depth + 1);
        v.kind = body.kind;
        v.destructive = body.destructive;
        v.reasons = [...body.reasons];
      } else v.reasons.push('dynamic SQL: PREPARE from a variable');
    } else {
      v = mysql ? classifyMy(node) : classifyPg(node);
      if (sup?.command) v.command = sup.command;
      try {
        if (mysql) collectMy(node, collector);
        else collectPg(node, collector);
      } catch {
        reasons.push('objects could not be resolved');
      }
      if (!mysql && v.command === 'PREPARE' && depth < 3) {
        const as = stmts[i]!.tokens.findIndex((t) => t.type === 'word' && t.upper === 'AS');
        const from = stmts[i]!.tokens[as + 1];
        if (as > 0 && from) body = analyzeUncached(sql.slice(from.start, stmts[i]!.end), opts, limits, depth + 1);
      }
    }
    const r = merge(g, v);
    if (body) {
      r.body = body;
      prepared.set(r.name ?? '', body);
      for (const o of body.objects) collector.add(o.schema === undefined ? { name: o.name } : { schema: o.schema, name: o.name }, o.access, o.columns);
    }
    if (r.command === 'EXECUTE' && r.name !== undefined && prepared.has(r.name)) {
      const b = prepared.get(r.name);
      r.destructive = g.destructive || (b?.destructive ?? true);
      r.reasons = uniq([`executes prepared statement ${r.name}`, ...(b?.reasons ?? ['unknown body'])]);
      for (const o of b?.objects ?? []) collector.add(o.schema === undefined ? { name: o.name } : { schema: o.schema, name: o.name }, o.access, o.columns);
    }
    if (r.command === 'DEALLOCATE' || r.command === 'DISCARD') {
      if (r.name === '*' || r.name === undefined) prepared.clear();
      else prepared.delete(r.name);
    }
    results.push(r);
  }

  let kind: StatementKind = 'read';
  for (const r of results) kind = mostSevere(kind, r.kind);
  const commands = results.map((r) => r.command);
  let objects: AnalyzedObject[] = [];
  try {
    objects = collector.result();
  } catch {
    reasons.push('objects could not be resolved');
  }
  const a: Analysis = {
    kind,
    destructive: results.some((r) => r.destructive),
    statementCount: results.length,
    commands,
    statements: results.map((r) => {
      const s: { -readonly [K in keyof AnalyzedStatement]: AnalyzedStatement[K] } = { kind: r.kind, command: r.command, destructive: r.destructive, reasons: r.reasons };
      if (r.name !== undefined) s.name = r.name;
      if (r.body !== undefined) s.body = r.body;
      return s;
    }),
    objects,
    fingerprint,
    summary: summarize(stmts, commands),
    reasons: uniq([...reasons, ...results.flatMap((r) => r.reasons)]),
  };
  return deepFreeze(a);
}
