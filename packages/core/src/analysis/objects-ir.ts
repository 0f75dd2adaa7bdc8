/**
 * A small dialect-neutral description of what a statement reads and writes, and the resolver that
 * turns it into tables and columns. Each parser's AST is translated into this shape
 * (objects-postgres.ts, objects-mysql.ts) so scoping rules (aliases, joins, subqueries, CTEs, UNION,
 * RETURNING, `*` expansion) are written once.
 */
import type { Catalog } from './catalog.js';
import type { Access, AnalyzedObject } from './types.js';

/** A column reference: qualifier parts then the column (`u.id` → ['u', 'id']). */
export type ColRef = readonly string[];

/** What an expression touches: column references and the queries nested in it. */
export interface Bag {
  refs: ColRef[];
  subs: QueryIR[];
}

export interface TableName {
  schema?: string | undefined;
  name: string;
}

export type Source =
  | { t: 'table'; table: TableName; alias?: string | undefined }
  | { t: 'derived'; query: QueryIR; alias?: string | undefined; columns?: string[] | undefined }
  | { t: 'func'; bag: Bag; alias?: string | undefined; columns?: string[] | undefined };

export interface Item {
  /** `*` (qualifier undefined) or `q.*`. */
  star?: { qualifier?: ColRef | undefined };
  bag?: Bag;
  /** Output name: alias, or the column name of a bare reference. */
  name?: string | undefined;
}

export interface Cte {
  name: string;
  columns?: string[] | undefined;
  query: QueryIR;
}

export interface SelectIR {
  t: 'select';
  with?: Cte[] | undefined;
  from: Source[];
  /** ON conditions, WHERE, GROUP BY, HAVING, windows: everything but the select list and ORDER BY. */
  bag: Bag;
  items: Item[];
  /** ORDER BY may name output columns; those are not table columns. */
  orderBy: Bag;
}

export interface SetOpIR {
  t: 'setop';
  with?: Cte[] | undefined;
  branches: QueryIR[];
  orderBy: Bag;
}

export interface ValuesIR {
  t: 'values';
  bag: Bag;
}

export interface DmlIR {
  t: 'dml';
  with?: Cte[] | undefined;
  op: 'insert' | 'update' | 'delete' | 'merge';
  target: Source & { t: 'table' };
  /** Extra write targets named by alias or name (MySQL multi-table DELETE/UPDATE). */
  targetRefs?: string[] | undefined;
  /** Columns written: explicit list; 'all' = every catalog column (INSERT without a column list). */
  writes: ColRef[] | 'all';
  from: Source[];
  bag: Bag;
  source?: QueryIR | undefined;
  returning: Item[];
}

export type QueryIR = SelectIR | SetOpIR | ValuesIR | DmlIR;

/** Statement-level facts that are not queries (DDL targets, COPY, GRANT ...). */
export interface Touch {
  table: TableName;
  access: Access;
  columns?: string[] | 'all' | undefined;
}

export function emptyBag(): Bag {
  return { refs: [], subs: [] };
}

interface ScopeSource {
  match: string; // alias, or table name
  table?: TableName; // base table (resolved schema when the catalog knows it)
  cols?: readonly string[] | undefined; // known column list, undefined = unknown
}

interface Scope {
  sources: ScopeSource[];
  parent: Scope | undefined;
  ctes: Map<string, { columns: readonly string[] | undefined }>;
}

/** Collects objects in order of first appearance. */
export class ObjectCollector {
  private readonly entries = new Map<string, { schema?: string | undefined; name: string; access: Access; columns: string[]; seen: Set<string> }>();
  private readonly ci: boolean;

  constructor(
    private readonly catalog: Catalog | undefined,
    mysql: boolean,
  ) {
    this.ci = mysql;
  }

  private norm(s: string): string {
    return this.ci ? s.toLowerCase() : s;
  }

  private eq(a: string, b: string): boolean {
    return this.ci ? a.toLowerCase() === b.toLowerCase() : a === b;
  }

  /** Resolves the schema through the catalog so policies can match `schema.table.column`. */
  resolveTable(t: TableName): { table: TableName; cols: readonly string[] | undefined } {
    const found = this.catalog?.lookup(t.schema, t.name);
    if (found) return { table: { schema: found.schema, name: t.name }, cols: found.columns };
    return { table: t, cols: undefined };
  }

  add(t: TableName, access: Access, columns: readonly string[] = []): void {
    const key = `${access}\u0000${this.norm(t.schema ?? '')}\u0000${this.norm(t.name)}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { name: t.name, access, columns: [], seen: new Set() };
      if (t.schema !== undefined) e.schema = t.schema;
      this.entries.set(key, e);
    }
    for (const c of columns) {
      const k = this.norm(c);
      if (!e.seen.has(k)) {
        e.seen.add(k);
        e.columns.push(c);
      }
    }
  }

  touch(x: Touch): void {
    const r = this.resolveTable(x.table);
    const cols = x.columns === 'all' ? (r.cols ?? []) : (x.columns ?? []);
    this.add(r.table, x.access, cols);
  }

  result(): AnalyzedObject[] {
    const out: AnalyzedObject[] = [];
    for (const e of this.entries.values()) {
      const o: { schema?: string; name: string; access: Access; columns: string[] } = { name: e.name, access: e.access, columns: e.columns };
      if (e.schema !== undefined) o.schema = e.schema;
      out.push(o);
    }
    return out;
  }

  // ---- query resolution ----

  query(q: QueryIR, parent?: Scope, ctes?: Map<string, { columns: readonly string[] | undefined }>): readonly string[] | undefined {
    const visible = new Map(ctes ?? parent?.ctes ?? []);
    if ('with' in q && q.with) {
      for (const c of q.with) {
        // Registered first so a recursive CTE can see itself.
        visible.set(this.norm(c.name), { columns: c.columns });
        const out = this.query(c.query, parent, visible);
        if (!c.columns) visible.set(this.norm(c.name), { columns: out });
      }
    }
    switch (q.t) {
      case 'select':
        return this.select(q, parent, visible);
      case 'setop': {
        let first: readonly string[] | undefined;
        q.branches.forEach((b, i) => {
          const out = this.query(b, parent, visible);
          if (i === 0) first = out;
        });
        // ORDER BY of a set operation names output columns only.
        for (const s of q.orderBy.subs) this.query(s, parent, visible);
        return first;
      }
      case 'values':
        this.bag(q.bag, { sources: [], parent, ctes: visible });
        return undefined;
      case 'dml':
        return this.dml(q, parent, visible);
    }
  }

  private sourceOf(s: Source, scope: Scope): ScopeSource {
    if (s.t === 'table') {
      const cte = s.table.schema === undefined ? scope.ctes.get(this.norm(s.table.name)) : undefined;
      if (cte) return { match: s.alias ?? s.table.name, cols: cte.columns };
      const r = this.resolveTable(s.table);
      this.add(r.table, 'read');
      return { match: s.alias ?? s.table.name, table: r.table, cols: r.cols };
    }
    if (s.t === 'derived') {
      const out = this.query(s.query, scope, scope.ctes);
      return { match: s.alias ?? '', cols: s.columns ?? out };
    }
    this.bag(s.bag, scope);
    return { match: s.alias ?? '', cols: s.columns };
  }

  private select(q: SelectIR, parent: Scope | undefined, ctes: Scope['ctes']): readonly string[] | undefined {
    const scope: Scope = { sources: [], parent, ctes };
    // LATERAL and correlated sources see earlier ones, so add as we go.
    for (const s of q.from) scope.sources.push(this.sourceOf(s, scope));
    this.bag(q.bag, scope);
    const out: string[] = [];
    let known = true;
    for (const it of q.items) {
      if (it.star) {
        const cols = this.expandStar(it.star.qualifier, scope);
        if (cols) out.push(...cols);
        else known = false;
      } else {
        if (it.bag) this.bag(it.bag, scope);
        if (it.name !== undefined) out.push(it.name);
        else out.push('?column?');
      }
    }
    const aliases = new Set(q.items.map((i) => (i.name === undefined ? '' : this.norm(i.name))));
    for (const r of q.orderBy.refs) {
      if (r.length === 1 && aliases.has(this.norm(r[0]!))) continue;
      this.ref(r, scope, 'read');
    }
    for (const s of q.orderBy.subs) this.query(s, scope, scope.ctes);
    return known ? out : undefined;
  }

  private expandStar(qualifier: ColRef | undefined, scope: Scope): string[] | undefined {
    const targets = qualifier ? scope.sources.filter((s) => this.eq(s.match, qualifier[qualifier.length - 1]!)) : scope.sources;
    if (qualifier && targets.length === 0) return undefined;
    const out: string[] = [];
    let known = true;
    for (const s of targets) {
      if (!s.cols) {
        known = false;
        continue;
      }
      out.push(...s.cols);
      if (s.table) this.add(s.table, 'read', s.cols);
    }
    return known ? out : undefined;
  }

  private dml(q: DmlIR, parent: Scope | undefined, ctes: Scope['ctes']): readonly string[] | undefined {
    const scope: Scope = { sources: [], parent, ctes };
    const r = this.resolveTable(q.target.table);
    const target: ScopeSource = { match: q.target.alias ?? q.target.table.name, table: r.table, cols: r.cols };
    this.add(r.table, 'write');
    if (q.op === 'insert') {
      // The INSERT's source query does not see the target as a FROM item.
      if (q.source) this.query(q.source, parent, ctes);
      scope.sources.push(target, { match: 'excluded', table: r.table, cols: r.cols });
    } else {
      scope.sources.push(target);
    }
    for (const s of q.from) scope.sources.push(this.sourceOf(s, scope));
    if (q.op === 'merge' && q.source) this.query(q.source, scope, ctes);
    if (q.writes === 'all') {
      if (r.cols) this.add(r.table, 'write', r.cols);
    } else {
      for (const w of q.writes) this.ref(w, scope, 'write', target);
    }
    if (q.targetRefs) {
      for (const name of q.targetRefs) {
        const s = scope.sources.find((x) => this.eq(x.match, name));
        if (s?.table) this.add(s.table, 'write');
      }
    }
    this.bag(q.bag, scope);
    const out: string[] = [];
    let known = true;
    for (const it of q.returning) {
      if (it.star) {
        const cols = this.expandStar(it.star.qualifier, scope);
        if (cols) out.push(...cols);
        else known = false;
      } else {
        if (it.bag) this.bag(it.bag, scope);
        out.push(it.name ?? '?column?');
      }
    }
    return known ? out : undefined;
  }

  bag(b: Bag, scope: Scope): void {
    for (const r of b.refs) this.ref(r, scope, 'read');
    for (const s of b.subs) this.query(s, scope, scope.ctes);
  }

  /** Resolves a column reference; `prefer` is the default owner of unqualified write targets. */
  private ref(r: ColRef, scope: Scope, access: Access, prefer?: ScopeSource): void {
    const col = r[r.length - 1];
    if (col === undefined) return;
    if (r.length >= 2) {
      const q = r[r.length - 2]!;
      const schema = r.length >= 3 ? r[r.length - 3] : undefined;
      for (let s: Scope | undefined = scope; s; s = s.parent) {
        const hit = s.sources.find((x) => this.eq(x.match, q) && (schema === undefined || !x.table || x.table.schema === undefined || this.eq(x.table.schema, schema)));
        if (hit) {
          if (hit.table) this.add(hit.table, access, [this.canonical(hit, col)]);
          return;
        }
      }
      return;
    }
    if (prefer?.table) {
      this.add(prefer.table, access, [this.canonical(prefer, col)]);
      return;
    }
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const definite = s.sources.find((x) => x.cols?.some((c) => this.eq(c, col)));
      if (definite) {
        if (definite.table) this.add(definite.table, access, [this.canonical(definite, col)]);
        return;
      }
      const unknown = s.sources.filter((x) => x.cols === undefined);
      if (unknown.length > 0) {
        // Without a catalog we cannot tell which table owns the column: report it for each
        // candidate (over-reporting is the safe side for sensitive-column tagging).
        for (const u of unknown) if (u.table) this.add(u.table, access, [col]);
        return;
      }
    }
  }

  /** The catalog's spelling of a column (MySQL matches case-insensitively). */
  private canonical(s: ScopeSource, col: string): string {
    if (!this.ci || !s.cols) return col;
    return s.cols.find((c) => this.eq(c, col)) ?? col;
  }
}
