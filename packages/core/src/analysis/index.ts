/** SQL analysis: `analyze(sql, { dialect, catalog })` and its building blocks. */
import { createAnalyzer } from './cache.js';
import type { Analysis, AnalyzeOptions } from './types.js';

export type { Analyzer, AnalyzerOptions } from './cache.js';
export { createAnalyzer } from './cache.js';
export type { Catalog, CatalogInput, CatalogTable, CatalogTableInput } from './catalog.js';
export { createCatalog } from './catalog.js';
export { CatalogSource, introspectCatalog, type QueryFn } from './introspect.js';
export { loadAnalyzers } from './parsers.js';
export { PreparedStatementTracker } from './prepared.js';
export { mostSevere, SEVERITY } from './severity.js';
export { splitSqlText, type SplitText, type SplitTextOptions } from './split-text.js';
export type { Access, Analysis, AnalyzedObject, AnalyzedStatement, AnalyzeOptions, Dialect, StatementKind } from './types.js';

const shared = createAnalyzer();

/**
 * Analyzes one text (one or more statements). Synchronous and never throws: anything it cannot
 * establish, including "the WASM parsers are not loaded yet" (see loadAnalyzers), is kind 'unknown'
 * with a reason. Results are frozen and shared through an exact-text LRU cache.
 */
export function analyze(sql: unknown, opts: AnalyzeOptions): Analysis {
  return shared.analyze(sql, opts);
}
