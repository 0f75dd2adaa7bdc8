/** Translates sqlparser-rs's AST (MySQL dialect) into the neutral object description of objects-ir.ts. */
import { arr, type Node, obj, str, tagged } from './ast.js';
import { identParts } from './mysql-classifier.js';
import { type Bag, type ColRef, type Cte, emptyBag, type Item, type ObjectCollector, type QueryIR, type Source, type TableName } from './objects-ir.js';

/** Keys that never hold column references (names of functions, aliases, types, positions). */
const SKIP = new Set(['name', 'alias', 'data_type', 'span', 'Value', 'value', 'wildcard_token', 'opening_token', 'closing_token', 'optimizer_hints', 'charset', 'collation']);

function tableName(x: unknown): TableName | undefined {
  const parts = identParts(x);
  const name = parts.at(-1);
  if (name === undefined || name === '') return undefined;
  const t: TableName = { name };
  if (parts.length >= 2) t.schema = parts[parts.length - 2];
  return t;
}

function isQuery(x: unknown): x is Node {
  const n = obj(x);
  return n !== undefined && 'body' in n;
}

function bagOf(x: unknown, into: Bag = emptyBag(), depth = 0): Bag {
  if (depth > 500 || x === null || typeof x !== 'object') return into;
  if (Array.isArray(x)) {
    for (const e of x) bagOf(e, into, depth + 1);
    return into;
  }
  const n = x as Node;
  for (const k in n) {
    if (SKIP.has(k)) continue;
    const v = n[k];
    if (k === 'Identifier') {
      const id = str(obj(v)?.value);
      if (id !== undefined && !id.startsWith('@')) into.refs.push([id]);
      continue;
    }
    if (k === 'CompoundIdentifier') {
      const parts = arr(v).map((p) => str(obj(p)?.value) ?? '');
      if (parts.length > 0 && !parts[0]!.startsWith('@')) into.refs.push(parts);
      continue;
    }
    if (isQuery(v)) {
      into.subs.push(queryOf(v));
      continue;
    }
    if (typeof v === 'object' && v !== null) bagOf(v, into, depth + 1);
  }
  return into;
}

function items(list: unknown): Item[] {
  const out: Item[] = [];
  for (const x of arr(list)) {
    const t = tagged(x);
    if (!t) continue;
    const [k, v] = t;
    if (k === 'Wildcard') out.push({ star: {} });
    else if (k === 'QualifiedWildcard') {
      const first = arr(v)[0];
      const parts = identParts(obj(first)?.ObjectName ?? []);
      out.push({ star: { qualifier: parts.length > 0 ? parts : undefined } });
    } else if (k === 'ExprWithAlias') {
      const n = obj(v);
      out.push({ bag: bagOf(n?.expr), name: str(obj(n?.alias)?.value) });
    } else {
      const et = tagged(v);
      let name: string | undefined;
      if (et?.[0] === 'Identifier') name = str(obj(et[1])?.value);
      else if (et?.[0] === 'CompoundIdentifier') name = str(obj(arr(et[1]).at(-1))?.value);
      out.push({ bag: bagOf(v), name });
    }
  }
  return out;
}

function factor(x: unknown, sources: Source[], bag: Bag): void {
  const t = tagged(x);
  const n = obj(t?.[1]);
  if (!t || !n) return;
  const alias = obj(n.alias);
  const aliasName = str(obj(alias?.name)?.value);
  const aliasCols = arr(alias?.columns).map((c) => str(obj(obj(c)?.name)?.value) ?? str(obj(c)?.value) ?? '');
  switch (t[0]) {
    case 'Table': {
      const tn = tableName(n.name);
      if (tn) sources.push({ t: 'table', table: tn, alias: aliasName });
      bagOf(n.args, bag);
      return;
    }
    case 'Derived':
      if (isQuery(n.subquery)) sources.push({ t: 'derived', query: queryOf(n.subquery), alias: aliasName, columns: aliasCols.length > 0 ? aliasCols : undefined });
      return;
    case 'NestedJoin':
      withJoins(n.table_with_joins, sources, bag);
      return;
    default:
      sources.push({ t: 'func', bag: bagOf(n), alias: aliasName, columns: aliasCols.length > 0 ? aliasCols : undefined });
  }
}

function withJoins(x: unknown, sources: Source[], bag: Bag): void {
  const n = obj(x);
  if (!n) return;
  factor(n.relation, sources, bag);
  for (const j of arr(n.joins)) {
    const jn = obj(j);
    factor(jn?.relation, sources, bag);
    const op = tagged(jn?.join_operator);
    const constraint = op ? tagged(op[1]) : undefined;
    if (constraint?.[0] === 'On') bagOf(constraint[1], bag);
    else if (constraint?.[0] === 'Using') for (const u of arr(constraint[1])) bag.refs.push([identParts(u).at(-1) ?? str(obj(u)?.value) ?? '']);
  }
}

function setExpr(x: unknown, w: Cte[] | undefined, orderBy: Bag): QueryIR {
  const t = tagged(x);
  const n = obj(t?.[1]);
  if (!t || !n) return { t: 'values', bag: emptyBag() };
  switch (t[0]) {
    case 'Select': {
      const sources: Source[] = [];
      const bag = emptyBag();
      for (const f of arr(n.from)) withJoins(f, sources, bag);
      bagOf(n.selection, bag);
      bagOf(n.group_by, bag);
      bagOf(n.having, bag);
      bagOf(n.named_window, bag);
      bagOf(n.qualify, bag);
      return { t: 'select', with: w, from: sources, bag, items: items(n.projection), orderBy };
    }
    case 'Query':
      return queryOf(n);
    case 'SetOperation':
      return { t: 'setop', with: w, branches: [setExpr(n.left, undefined, emptyBag()), setExpr(n.right, undefined, emptyBag())], orderBy };
    case 'Values':
      return { t: 'values', bag: bagOf(n.rows) };
    default: {
      const d = dml(t[0], n);
      return d ?? { t: 'values', bag: bagOf(n) };
    }
  }
}

function queryOf(n: Node): QueryIR {
  const w: Cte[] = [];
  for (const c of arr(obj(n.with)?.cte_tables)) {
    const cn = obj(c);
    const alias = obj(cn?.alias);
    const name = str(obj(alias?.name)?.value);
    if (name === undefined || !isQuery(cn?.query)) continue;
    const cols = arr(alias?.columns).map((x) => str(obj(obj(x)?.name)?.value) ?? str(obj(x)?.value) ?? '');
    w.push({ name, columns: cols.length > 0 ? cols : undefined, query: queryOf(cn.query) });
  }
  const orderBy = bagOf(n.order_by);
  bagOf(n.limit_clause ?? n.limit, orderBy);
  return setExpr(n.body, w.length > 0 ? w : undefined, orderBy);
}

function assignments(list: unknown, bag: Bag): ColRef[] {
  const writes: ColRef[] = [];
  for (const a of arr(list)) {
    const an = obj(a);
    const target = obj(an?.target);
    if (target?.ColumnName) writes.push(identParts(target.ColumnName));
    else for (const tuple of arr(target?.Tuple)) writes.push(identParts(tuple));
    bagOf(an?.value, bag);
  }
  return writes;
}

function dml(tag: string, n: Node): QueryIR | undefined {
  const bag = emptyBag();
  const from: Source[] = [];
  if (tag === 'Insert') {
    const tn = tableName(obj(n.table)?.TableName ?? n.table_name ?? n.table);
    if (!tn) return undefined;
    const cols = arr(n.columns).map((c) => (Array.isArray(c) ? identParts(c) : [str(obj(c)?.value) ?? '']));
    const writes: ColRef[] | 'all' = cols.length > 0 ? cols : 'all';
    const on = obj(n.on);
    const dup = on?.DuplicateKeyUpdate;
    const conflict = obj(obj(obj(on?.OnConflict)?.action)?.DoUpdate);
    const extra = assignments(dup ?? conflict?.assignments, bag);
    if (writes !== 'all') writes.push(...extra);
    bagOf(conflict?.selection, bag);
    return { t: 'dml', op: 'insert', target: { t: 'table', table: tn, alias: str(obj(n.table_alias)?.value) }, writes, from, bag, source: isQuery(n.source) ? queryOf(n.source) : undefined, returning: items(n.returning) };
  }
  if (tag === 'Update') {
    const all: Source[] = [];
    withJoins(n.table, all, bag);
    const first = all.shift();
    if (first?.t !== 'table') return undefined;
    from.push(...all);
    const f = n.from;
    for (const tw of arr(obj(f)?.AfterSet ?? obj(f)?.BeforeSet ?? f)) withJoins(tw, from, bag);
    const writes = assignments(n.assignments, bag);
    bagOf(n.selection, bag);
    // Multi-table UPDATE: qualified targets may name a joined table.
    const targetRefs = writes.filter((w) => w.length >= 2).map((w) => w[w.length - 2]!);
    return { t: 'dml', op: 'update', target: first, targetRefs, writes, from, bag, returning: items(n.returning) };
  }
  if (tag === 'Delete') {
    const fromNode = obj(n.from);
    const list = fromNode?.WithFromKeyword ?? fromNode?.WithoutKeyword ?? n.from;
    for (const tw of arr(list)) withJoins(tw, from, bag);
    for (const tw of arr(n.using)) withJoins(tw, from, bag);
    bagOf(n.selection, bag);
    bagOf(n.order_by, bag);
    const named = arr(n.tables).map((x) => identParts(x).at(-1) ?? '');
    const firstIdx = from.findIndex((s) => s.t === 'table');
    if (firstIdx < 0) return undefined;
    let target = from[firstIdx] as Source & { t: 'table' };
    if (named.length > 0) {
      // DELETE o FROM orders o ...: the named aliases are the targets, the rest are only read.
      const hit = from.find((s): s is Source & { t: 'table' } => s.t === 'table' && (s.alias ?? s.table.name).toLowerCase() === named[0]!.toLowerCase());
      if (hit) target = hit;
    }
    const rest = from.filter((s) => s !== target);
    return { t: 'dml', op: 'delete', target, targetRefs: named.slice(1), writes: [], from: rest, bag, returning: items(n.returning) };
  }
  return undefined;
}

export function collectMy(stmt: unknown, c: ObjectCollector): void {
  const t = tagged(stmt);
  if (!t) return;
  const [tag] = t;
  const n = obj(t[1]) ?? {};
  if (tag === 'Query') {
    c.query(queryOf(n));
    return;
  }
  const d = dml(tag, n);
  if (d) {
    c.query(d);
    return;
  }
  const ddl = (x: unknown, columns?: string[]): void => {
    const tn = tableName(x);
    if (tn && tn.name !== '*') c.touch({ table: tn, access: 'ddl', columns });
  };
  switch (tag) {
    case 'CreateTable':
      ddl(n.name, arr(n.columns).map((col) => str(obj(obj(col)?.name)?.value) ?? '').filter((s) => s !== ''));
      if (isQuery(n.query)) c.query(queryOf(n.query));
      return;
    case 'CreateView':
      ddl(n.name);
      if (isQuery(n.query)) c.query(queryOf(n.query));
      return;
    case 'CreateIndex':
      ddl(n.table_name);
      return;
    case 'Drop':
      if (n.object_type === 'Table' || n.object_type === 'View') for (const x of arr(n.names)) ddl(x);
      return;
    case 'Truncate':
      for (const x of arr(n.table_names)) ddl(obj(x)?.name);
      return;
    case 'AlterTable':
      ddl(n.name);
      return;
    case 'RenameTable':
      for (const r of arr(t[1])) {
        ddl(obj(r)?.old_name);
        ddl(obj(r)?.new_name);
      }
      return;
    case 'Grant':
    case 'Revoke':
      for (const x of arr(obj(n.objects)?.Tables)) ddl(x);
      return;
    case 'Explain':
      collectMy(n.statement, c);
      return;
    case 'ExplainTable':
      {
        const tn = tableName(n.table_name);
        if (tn) c.touch({ table: tn, access: 'read' });
      }
      return;
    default:
  }
}
