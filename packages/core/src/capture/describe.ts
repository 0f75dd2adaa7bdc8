import type { Analysis, Analyzer, Catalog, Dialect } from '../analysis/index.js';
import type { DbSystem, ObjectRef, StatementInfo } from '../event/types.js';
import { type LexingOptions, UNKNOWN_LEXING } from '../auditor/session-lexing.js';

const dialects: Record<DbSystem, Dialect> = { postgresql: 'postgres', mysql: 'mysql', mariadb: 'mariadb' };

export function dialectOf(system: DbSystem): Dialect {
  return dialects[system];
}

export interface Description {
  analysis: Analysis;
  /** The WASM parsers were not loaded yet: the capture analyses again when the statement completes. */
  provisional: boolean;
}

interface Memo {
  analyzer: Analyzer;
  system: DbSystem;
  catalog: Catalog | undefined;
  version: number | undefined;
  /** The session's string-lexing settings (interned objects: identity is equality). */
  lexing: LexingOptions;
  description: Description;
}

/**
 * Repeated statements (the same few texts, over and over) skip even the analyzer's cache lookup, which
 * builds an options object and a context key per call. Keyed by the text; valid for the same
 * analyzer, database system and catalog (object and version). Bounded: cleared when full, and only
 * texts up to MEMO_TEXT_MAX characters (so it never pins more than a few MiB of statement text).
 */
const memo = new Map<string, Memo>();
const MEMO_MAX = 512;
const MEMO_TEXT_MAX = 8192;

export function describe(analyzer: Analyzer, text: string | undefined, system: DbSystem, catalog?: Catalog, lexing: LexingOptions = UNKNOWN_LEXING): Description {
  if (text !== undefined) {
    const m = memo.get(text);
    if (m !== undefined && m.analyzer === analyzer && m.system === system && m.catalog === catalog && m.version === catalog?.version && m.lexing === lexing) {
      return m.description;
    }
  }
  const analysis = analyzer.analyze(text, { dialect: dialects[system], catalog, ...lexing });
  const description = { analysis, provisional: analysis.reasons.includes('parser not loaded') };
  if (text !== undefined && text.length <= MEMO_TEXT_MAX && !description.provisional) {
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(text, { analyzer, system, catalog, version: catalog?.version, lexing, description });
  }
  return description;
}

/** `commands.join('; ')` per analysis (analyses are shared by the cache; the string need not be rebuilt). */
const commandText = new WeakMap<Analysis, string>();

function commandOf(analysis: Analysis): string {
  const n = analysis.commands.length;
  if (n === 0) return 'UNKNOWN';
  if (n === 1) return analysis.commands[0]!;
  let c = commandText.get(analysis);
  if (c === undefined) {
    c = analysis.commands.join('; ');
    commandText.set(analysis, c);
  }
  return c;
}

/**
 * A new statement's fields, in the order the event has always had: class, command, destructive,
 * fingerprint, summary, text, truncated, prepared_name (params are added by the auditor). Absent
 * fields are left out, not set to undefined (listeners and the schema see the same object as ever).
 */
export function statementInfo(analysis: Analysis, text: string | undefined, maxText: number, preparedName: string | undefined): StatementInfo {
  const s: StatementInfo = { class: analysis.kind, command: commandOf(analysis), destructive: analysis.destructive };
  if (analysis.fingerprint) s.fingerprint = analysis.fingerprint;
  if (analysis.summary) s.summary = analysis.summary;
  if (text !== undefined) {
    if (text.length > maxText) {
      s.text = text.slice(0, maxText);
      s.truncated = true;
    } else {
      s.text = text;
    }
  }
  if (preparedName !== undefined) s.prepared_name = preparedName;
  return s;
}

/** Copies the analysis into the event's statement fields (class, command, fingerprint, summary, destructive). */
export function applyAnalysis(statement: StatementInfo, analysis: Analysis): void {
  statement.class = analysis.kind;
  statement.command = commandOf(analysis);
  statement.destructive = analysis.destructive;
  if (analysis.fingerprint) statement.fingerprint = analysis.fingerprint;
  else delete statement.fingerprint;
  if (analysis.summary) statement.summary = analysis.summary;
  else delete statement.summary;
}

/** Tables and columns touched, as event objects. Memoised per analysis: the cache shares analyses. */
const objectsCache = new WeakMap<Analysis, ObjectRef[] | undefined>();

export function objectsOf(analysis: Analysis): ObjectRef[] | undefined {
  if (objectsCache.has(analysis)) return objectsCache.get(analysis);
  const refs =
    analysis.objects.length === 0
      ? undefined
      : analysis.objects.map(
          (o): ObjectRef => ({
            type: 'table',
            ...(o.schema === undefined ? {} : { schema: o.schema }),
            name: o.name,
            columns: [...o.columns],
            access: o.access,
          }),
        );
  objectsCache.set(analysis, refs);
  return refs;
}
