/**
 * The analyzer with its exact-text LRU cache: ORMs send the same few hundred texts over and over, so a
 * hit must cost about a microsecond. Keyed by the text itself (V8 caches a string's hash on the string,
 * so a reused ORM string hashes once) and then by the settings that change the result: dialect, string
 * lexing settings and the catalog version.
 */
import { LRUCache } from 'lru-cache';
import { analyzeUncached, DEFAULT_MAX_LENGTH, unknownResult } from './analyze.js';
import { analyzeEitherEscaping } from './escapes.js';
import type { Analysis, AnalyzeOptions } from './types.js';

export interface AnalyzerOptions {
  /** Distinct texts kept (default 2000). */
  cacheSize?: number;
  /** Longer texts are not lexed or parsed: `unknown` (default 100 000 characters). */
  maxLength?: number;
}

export interface Analyzer {
  analyze(sql: unknown, opts: AnalyzeOptions): Analysis;
  clear(): void;
  readonly stats: { readonly hits: number; readonly misses: number; readonly size: number };
}

function contextKey(o: AnalyzeOptions): string {
  // Unknown (undefined) settings are their own key: then both readings are analysed (escapes.ts).
  const flag = (v: boolean | undefined): string => (v === undefined ? 'u' : v ? '1' : '0');
  return `${o.dialect}|${flag(o.backslashEscapes)}${flag(o.standardConformingStrings)}|${o.catalog?.version ?? 0}`;
}

export function createAnalyzer(options: AnalyzerOptions = {}): Analyzer {
  const limits = { maxLength: options.maxLength ?? DEFAULT_MAX_LENGTH };
  const cache = new LRUCache<string, Map<string, Analysis>>({ max: Math.max(1, options.cacheSize ?? 2000) });
  let hits = 0;
  let misses = 0;
  return {
    analyze(sql: unknown, opts: AnalyzeOptions): Analysis {
      if (typeof opts !== 'object' || opts === null) return unknownResult('missing options: dialect is required');
      if (typeof sql !== 'string' || sql.length > limits.maxLength) return analyzeUncached(sql, opts, limits);
      const ctx = contextKey(opts);
      const entry = cache.get(sql);
      const hit = entry?.get(ctx);
      if (hit) {
        hits++;
        return hit;
      }
      misses++;
      let a: Analysis;
      try {
        a = analyzeEitherEscaping(sql, opts, limits);
      } catch (e) {
        // Never throw on the query path; an internal bug degrades to unknown.
        return Object.freeze({ kind: 'unknown', destructive: true, statementCount: 0, commands: [], statements: [], objects: [], fingerprint: '', summary: '', reasons: ['internal analyzer error'], error: e instanceof Error ? e.message : String(e) });
      }
      // 'parser not loaded' is temporary: do not pin it in the cache.
      if (a.reasons.includes('parser not loaded')) return a;
      if (entry) entry.set(ctx, a);
      else cache.set(sql, new Map([[ctx, a]]));
      return a;
    },
    clear(): void {
      cache.clear();
    },
    get stats() {
      return { hits, misses, size: cache.size };
    },
  };
}
