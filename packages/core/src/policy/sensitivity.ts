/**
 * Sensitive-column tagging: the analysis's objects and columns (after `*` expansion through the
 * catalog, aliases, joins, subqueries, views) against the policy's column patterns.
 */
import type { Analysis } from '../analysis/types.js';
import type { SensitivityInfo } from '../event/types.js';
import { type ColumnPattern, type NamePattern, parseColumnPattern, parseNamePattern, type Segment, segmentMatches } from './patterns.js';
import type { ParsedPolicy, PolicyIssue } from './schema.js';

interface SensitiveRule {
  readonly id: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly patterns: readonly ColumnPattern[];
}

interface ViewLineage {
  readonly view: NamePattern;
  readonly from: readonly NamePattern[];
  /** view column (lower case) → base columns [schema, table, column] */
  readonly columns: ReadonlyMap<string, readonly (readonly [string, string, string])[]>;
}

export interface SensitivityFacts {
  readonly info: SensitivityInfo | undefined;
  readonly categories: ReadonlySet<string>;
  /** Objects read (access 'read') with a match, by category: for bulk-read counting. */
  readonly readObjects: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface SensitivityMatcher {
  readonly empty: boolean;
  facts(analysis: Analysis): SensitivityFacts;
}

const NO_FACTS: SensitivityFacts = Object.freeze({ info: undefined, categories: new Set<string>(), readObjects: new Map() });

function literal(seg: Segment): string | undefined {
  return seg.kind === 'exact' ? seg.value : undefined;
}

export function compileSensitivity(p: ParsedPolicy, issues: PolicyIssue[]): SensitivityMatcher {
  const rules: SensitiveRule[] = (p.sensitive ?? []).map((s, i) => {
    const cols = Array.isArray(s.columns) ? s.columns : [s.columns];
    return {
      id: s.id ?? `sensitive[${i}]`,
      category: s.category,
      tags: s.tags ?? [],
      patterns: cols.map((c) => parseColumnPattern(c) as ColumnPattern),
    };
  });
  const views: ViewLineage[] = [];
  for (const [key, v] of Object.entries(p.views ?? {})) {
    const columns = new Map<string, (readonly [string, string, string])[]>();
    for (const [col, refs] of Object.entries(v.columns ?? {})) {
      const list = Array.isArray(refs) ? refs : [refs];
      list.forEach((ref, j) => {
        const cp = parseColumnPattern(ref) as ColumnPattern;
        const parts = [literal(cp.schema), literal(cp.table), literal(cp.column)];
        if (parts.some((x) => x === undefined)) {
          issues.push({ path: `views[${JSON.stringify(key)}].columns.${col}${Array.isArray(refs) ? `[${j}]` : ''}`, message: 'a base column is a name, not a pattern (no *)' });
          return;
        }
        columns.set(col.toLowerCase(), [...(columns.get(col.toLowerCase()) ?? []), parts as unknown as readonly [string, string, string]]);
      });
    }
    views.push({
      view: parseNamePattern(key, 2) as NamePattern,
      from: (v.from ?? []).map((f) => parseNamePattern(f, 2) as NamePattern),
      columns,
    });
  }
  const unresolved = p.matchUnresolvedReads ?? true;

  const tableMatches = (pat: ColumnPattern, schema: string | undefined, name: string): boolean =>
    (schema === undefined || segmentMatches(pat.schema, schema)) && segmentMatches(pat.table, name);

  return {
    empty: rules.length === 0,
    facts(a: Analysis): SensitivityFacts {
      if (rules.length === 0 || a.objects.length === 0) return NO_FACTS;
      const matched: SensitivityInfo['matched'] = [];
      const seen = new Set<string>();
      const tags = new Set<string>();
      const categories = new Set<string>();
      const readObjects = new Map<string, Set<string>>();
      const add = (object: string, column: string, r: SensitiveRule, access: string): void => {
        const k = `${object}\u0000${column}\u0000${r.id}`;
        if (access === 'read') {
          let s = readObjects.get(r.category);
          if (!s) {
            s = new Set();
            readObjects.set(r.category, s);
          }
          s.add(object);
        }
        if (seen.has(k)) return;
        seen.add(k);
        matched.push({ object, column, rule_id: r.id, category: r.category });
        categories.add(r.category);
        tags.add(r.category);
        for (const t of r.tags) tags.add(t);
      };
      const columnHits = (schema: string | undefined, table: string, column: string, each: (r: SensitiveRule) => void): void => {
        for (const r of rules) {
          for (const pat of r.patterns) {
            if (tableMatches(pat, schema, table) && segmentMatches(pat.column, column)) {
              each(r);
              break;
            }
          }
        }
      };
      // Columns unknown: a pattern counts when it names the table (or the schema, when that is known);
      // `*.*.password*` cannot be decided without the columns and would tag every such read.
      const tableHits = (schema: string | undefined, table: string, each: (r: SensitiveRule) => void): void => {
        for (const r of rules) {
          if (r.patterns.some((pat) => (pat.table.kind !== 'any' || (pat.schema.kind !== 'any' && schema !== undefined)) && tableMatches(pat, schema, table))) each(r);
        }
      };
      for (const o of a.objects) {
        const object = o.schema === undefined ? o.name : `${o.schema}.${o.name}`;
        const lineage = views.filter((v) => (o.schema === undefined || segmentMatches(v.view.schema, o.schema)) && segmentMatches(v.view.name, o.name));
        if (o.columns.length === 0) {
          if (o.access !== 'read' || !unresolved) continue;
          // Columns unknown (SELECT * without a catalog, count(*)): the whole table counts.
          tableHits(o.schema, o.name, (r) => add(object, '*', r, o.access));
          for (const v of lineage) {
            for (const f of v.from) tableHits(literal(f.schema), literal(f.name) ?? o.name, (r) => add(object, '*', r, o.access));
            for (const refs of v.columns.values()) for (const [s, t, c] of refs) columnHits(s, t, c, (r) => add(object, '*', r, o.access));
          }
          continue;
        }
        for (const column of o.columns) {
          columnHits(o.schema, o.name, column, (r) => add(object, column, r, o.access));
          for (const v of lineage) {
            for (const f of v.from) {
              const t = literal(f.name);
              if (t !== undefined) columnHits(literal(f.schema), t, column, (r) => add(object, column, r, o.access));
            }
            for (const [s, t, c] of v.columns.get(column.toLowerCase()) ?? []) columnHits(s, t, c, (r) => add(object, column, r, o.access));
          }
        }
      }
      if (matched.length === 0) return NO_FACTS;
      for (const m of matched) Object.freeze(m);
      // Shared by every decision on this (cached) analysis: frozen all the way down.
      const info = Object.freeze({ tags: Object.freeze([...tags].sort()), matched: Object.freeze(matched) }) as unknown as SensitivityInfo;
      return Object.freeze({ info, categories, readObjects });
    },
  };
}
