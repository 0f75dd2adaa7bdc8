import type { Analysis, Analyzer, Catalog, Dialect } from '../analysis/index.js';
import type { DbSystem, ObjectRef, StatementInfo } from '../event/types.js';

const dialects: Record<DbSystem, Dialect> = { postgresql: 'postgres', mysql: 'mysql', mariadb: 'mariadb' };

export function dialectOf(system: DbSystem): Dialect {
  return dialects[system];
}

export interface Description {
  analysis: Analysis;
  /** The WASM parsers were not loaded yet: the capture analyses again when the statement completes. */
  provisional: boolean;
}

export function describe(analyzer: Analyzer, text: string | undefined, system: DbSystem, catalog?: Catalog): Description {
  const analysis = analyzer.analyze(text, { dialect: dialects[system], catalog });
  return { analysis, provisional: analysis.reasons.includes('parser not loaded') };
}

/** Copies the analysis into the event's statement fields (class, command, fingerprint, summary, destructive). */
export function applyAnalysis(statement: StatementInfo, analysis: Analysis): void {
  statement.class = analysis.kind;
  statement.command = analysis.commands.length > 0 ? analysis.commands.join('; ') : 'UNKNOWN';
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
