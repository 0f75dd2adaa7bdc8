/**
 * Backslashes in string literals mean different things depending on a session setting the driver
 * wrapper may not know: MySQL/MariaDB's NO_BACKSLASH_ESCAPES sql_mode, PostgreSQL's
 * standard_conforming_strings. Text such as  SELECT 'a\'; DROP TABLE t; -- '  is one harmless string
 * under one setting and a DROP under the other. When the setting is not given and the text has a
 * backslash, both readings are analysed and the more severe one wins: never downgrade.
 */
import { analyzeUncached, type Limits } from './analyze.js';
import { rank } from './severity.js';
import type { Analysis, AnalyzeOptions } from './types.js';

function worse(a: Analysis, b: Analysis): boolean {
  const ra = rank(a.kind);
  const rb = rank(b.kind);
  if (ra !== rb) return ra > rb;
  if (a.destructive !== b.destructive) return a.destructive;
  return a.statementCount > b.statementCount;
}

export function analyzeEitherEscaping(sql: string, opts: AnalyzeOptions, limits: Limits): Analysis {
  const first = analyzeUncached(sql, opts, limits);
  if (!sql.includes('\\')) return first;
  const mysql = opts.dialect !== 'postgres';
  const settingKnown = mysql ? opts.backslashEscapes !== undefined : opts.standardConformingStrings !== undefined;
  if (settingKnown) return first;
  const other = analyzeUncached(sql, mysql ? { ...opts, backslashEscapes: false } : { ...opts, standardConformingStrings: false }, limits);
  if (!worse(other, first)) return first;
  return Object.freeze({
    ...other,
    reasons: Object.freeze([...other.reasons, `backslash escaping is ambiguous (session setting unknown): the more severe reading is reported`]),
  });
}
