/** Translates libpg-query's AST into the neutral object description of objects-ir.ts. */
import { arr, type Node, obj, str, tagged } from './ast.js';
import { type Bag, type ColRef, type Cte, emptyBag, type Item, type ObjectCollector, type QueryIR, type Source, type TableName } from './objects-ir.js';

function rangeVar(x: unknown): (Source & { t: 'table' }) | undefined {
  const n = obj(x);
  const name = str(n?.relname);
  if (!n || name === undefined) return undefined;
  const table: TableName = { name };
  const schema = str(n.schemaname);
  if (schema !== undefined) table.schema = schema;
  return { t: 'table', table, alias: str(obj(n.alias)?.aliasname) };
}

function names(list: unknown): string[] {
  return arr(list).map((x) => str(obj(obj(x)?.String)?.sval) ?? '').filter((s) => s !== '');
}

/** Column references and subqueries anywhere in an expression. */
function bagOf(x: unknown, into: Bag = emptyBag(), depth = 0): Bag {
  if (depth > 500 || x === null || typeof x !== 'object') return into;
  if (Array.isArray(x)) {
    for (const e of x) bagOf(e, into, depth + 1);
    return into;
  }
  const n = x as Node;
  for (const k in n) {
    const v = n[k];
    if (k === 'ColumnRef') {
      const fields = arr(obj(v)?.fields);
      const parts = fields.map((f) => str(obj(obj(f)?.String)?.sval));
      if (parts.every((p): p is string => p !== undefined) && parts.length > 0) into.refs.push(parts);
      continue;
    }
    if (k === 'SubLink') {
      const s = obj(v);
      bagOf(s?.testexpr, into, depth + 1);
      const q = query(s?.subselect);
      if (q) into.subs.push(q);
      continue;
    }
    if (k === 'SelectStmt' || k === 'InsertStmt' || k === 'UpdateStmt' || k === 'DeleteStmt') {
      const q = query(n);
      if (q) into.subs.push(q);
      continue;
    }
    if (typeof v === 'object' && v !== null) bagOf(v, into, depth + 1);
  }
  return into;
}

function items(list: unknown): Item[] {
  const out: Item[] = [];
  for (const x of arr(list)) {
    const rt = obj(obj(x)?.ResTarget);
    if (!rt) continue;
    const cref = obj(obj(rt.val)?.ColumnRef);
    const fields = arr(cref?.fields);
    const last = fields.at(-1);
    if (cref && obj(last)?.A_Star !== undefined) {
      const qual = fields.slice(0, -1).map((f) => str(obj(obj(f)?.String)?.sval) ?? '');
      out.push({ star: { qualifier: qual.length > 0 ? qual : undefined } });
      continue;
    }
    const name = str(rt.name) ?? (cref ? str(obj(obj(last)?.String)?.sval) : undefined);
    out.push({ bag: bagOf(rt.val), name });
  }
  return out;
}

function fromItem(x: unknown, sources: Source[], bag: Bag): void {
  const t = tagged(x);
  if (!t) return;
  const n = obj(t[1]);
  if (!n) return;
  switch (t[0]) {
    case 'RangeVar': {
      const s = rangeVar(n);
      if (s) sources.push(s);
      return;
    }
    case 'JoinExpr':
      fromItem(n.larg, sources, bag);
      fromItem(n.rarg, sources, bag);
      bagOf(n.quals, bag);
      // USING (col): both sides read the column; unqualified refs resolve it to the first owner.
      for (const c of names(n.usingClause)) bag.refs.push([c]);
      return;
    case 'RangeSubselect': {
      const q = query(n.subquery);
      const alias = obj(n.alias);
      if (q) sources.push({ t: 'derived', query: q, alias: str(alias?.aliasname), columns: alias?.colnames ? names(alias.colnames) : undefined });
      return;
    }
    case 'RangeFunction': {
      const alias = obj(n.alias);
      sources.push({ t: 'func', bag: bagOf(n.functions), alias: str(alias?.aliasname), columns: alias?.colnames ? names(alias.colnames) : undefined });
      return;
    }
    default:
      bagOf(n, bag);
  }
}

function ctes(w: unknown): Cte[] | undefined {
  const list = arr(obj(w)?.ctes);
  if (list.length === 0) return undefined;
  const out: Cte[] = [];
  for (const c of list) {
    const cte = obj(obj(c)?.CommonTableExpr);
    const q = query(cte?.ctequery);
    if (!cte || !q) continue;
    out.push({ name: str(cte.ctename) ?? '', columns: cte.aliascolnames ? names(cte.aliascolnames) : undefined, query: q });
  }
  return out;
}

function selectBody(n: Node): QueryIR {
  const w = ctes(n.withClause);
  if (n.op !== undefined && n.op !== 'SETOP_NONE') {
    const branches: QueryIR[] = [];
    const l = selectBody(obj(n.larg) ?? {});
    const r = selectBody(obj(n.rarg) ?? {});
    branches.push(l, r);
    return { t: 'setop', with: w, branches, orderBy: bagOf(n.sortClause) };
  }
  if (n.valuesLists) return { t: 'values', bag: bagOf(n.valuesLists) };
  const sources: Source[] = [];
  const bag = emptyBag();
  for (const f of arr(n.fromClause)) fromItem(f, sources, bag);
  bagOf(n.whereClause, bag);
  bagOf(n.groupClause, bag);
  bagOf(n.havingClause, bag);
  bagOf(n.windowClause, bag);
  bagOf(n.distinctClause, bag);
  bagOf(n.limitCount, bag);
  bagOf(n.limitOffset, bag);
  return { t: 'select', with: w, from: sources, bag, items: items(n.targetList), orderBy: bagOf(n.sortClause) };
}

function returning(n: Node): Item[] {
  return items(obj(n.returningClause)?.exprs ?? n.returningList);
}

function writeTargets(list: unknown): ColRef[] {
  return arr(list)
    .map((x) => str(obj(obj(x)?.ResTarget)?.name))
    .filter((s): s is string => s !== undefined)
    .map((s) => [s]);
}

function targetValues(list: unknown, bag: Bag): void {
  for (const x of arr(list)) bagOf(obj(obj(x)?.ResTarget)?.val, bag);
}

/** A query IR for a SELECT/INSERT/UPDATE/DELETE/MERGE node (tagged or not). */
export function query(x: unknown): QueryIR | undefined {
  const t = tagged(x);
  if (!t) return undefined;
  const [tag, raw] = t;
  const n = obj(raw);
  if (!n) return undefined;
  if (tag === 'SelectStmt') return selectBody(n);
  if (tag === 'InsertStmt' || tag === 'UpdateStmt' || tag === 'DeleteStmt' || tag === 'MergeStmt') {
    const target = rangeVar(n.relation);
    if (!target) return undefined;
    const bag = emptyBag();
    const from: Source[] = [];
    const w = ctes(n.withClause);
    if (tag === 'InsertStmt') {
      const cols = writeTargets(n.cols);
      const conflict = obj(n.onConflictClause);
      const writes: ColRef[] | 'all' = cols.length > 0 ? [...cols] : 'all';
      if (conflict && writes !== 'all') writes.push(...writeTargets(conflict.targetList));
      targetValues(conflict?.targetList, bag);
      bagOf(conflict?.whereClause, bag);
      return { t: 'dml', with: w, op: 'insert', target, writes, from, bag, source: query(n.selectStmt), returning: returning(n) };
    }
    if (tag === 'UpdateStmt') {
      for (const f of arr(n.fromClause)) fromItem(f, from, bag);
      targetValues(n.targetList, bag);
      bagOf(n.whereClause, bag);
      return { t: 'dml', with: w, op: 'update', target, writes: writeTargets(n.targetList), from, bag, returning: returning(n) };
    }
    if (tag === 'DeleteStmt') {
      for (const f of arr(n.usingClause)) fromItem(f, from, bag);
      bagOf(n.whereClause, bag);
      return { t: 'dml', with: w, op: 'delete', target, writes: [], from, bag, returning: returning(n) };
    }
    fromItem(n.sourceRelation, from, bag);
    bagOf(n.joinCondition, bag);
    const writes: ColRef[] = [];
    for (const c of arr(n.mergeWhenClauses)) {
      const m = obj(obj(c)?.MergeWhenClause);
      writes.push(...writeTargets(m?.targetList));
      targetValues(m?.targetList, bag);
      bagOf(m?.values, bag);
      bagOf(m?.condition, bag);
    }
    return { t: 'dml', with: w, op: 'merge', target, writes, from, bag, returning: returning(n) };
  }
  return undefined;
}

function qualifiedName(list: unknown): TableName | undefined {
  const parts = names(obj(obj(list)?.List)?.items ?? list);
  const name = parts.at(-1);
  if (name === undefined) return undefined;
  const t: TableName = { name };
  if (parts.length >= 2) t.schema = parts[parts.length - 2];
  return t;
}

const TABLE_TYPES = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE']);

/** Collects the objects of one statement into `c`. */
export function collectPg(stmt: unknown, c: ObjectCollector): void {
  const t = tagged(stmt);
  if (!t) return;
  const [tag, raw] = t;
  const n = obj(raw);
  if (!n) return;
  const q = query(stmt);
  if (q) {
    c.query(q);
    if (tag === 'SelectStmt') {
      const into = rangeVar(obj(n.intoClause)?.rel);
      if (into) c.touch({ table: into.table, access: 'ddl' });
    }
    return;
  }
  const rel = (x: unknown, access: 'read' | 'write' | 'ddl', columns?: string[] | 'all'): void => {
    const r = rangeVar(x);
    if (r) c.touch({ table: r.table, access, columns });
  };
  switch (tag) {
    case 'CreateStmt':
      rel(n.relation, 'ddl', arr(n.tableElts).map((e) => str(obj(obj(e)?.ColumnDef)?.colname)).filter((s): s is string => s !== undefined));
      return;
    case 'CreateTableAsStmt': {
      rel(obj(n.into)?.rel, 'ddl');
      const inner = query(n.query);
      if (inner) c.query(inner);
      return;
    }
    case 'ViewStmt': {
      rel(n.view, 'ddl');
      const inner = query(n.query);
      if (inner) c.query(inner);
      return;
    }
    case 'IndexStmt':
      rel(n.relation, 'ddl', arr(n.indexParams).map((e) => str(obj(obj(e)?.IndexElem)?.name)).filter((s): s is string => s !== undefined));
      return;
    case 'DropStmt':
      if (TABLE_TYPES.has(str(n.removeType) ?? '')) {
        for (const o of arr(n.objects)) {
          const name = qualifiedName(o);
          if (name) c.touch({ table: name, access: 'ddl' });
        }
      }
      return;
    case 'TruncateStmt':
      for (const r of arr(n.relations)) rel(obj(r)?.RangeVar, 'ddl');
      return;
    case 'AlterTableStmt':
      rel(n.relation, 'ddl', arr(n.cmds).map((e) => str(obj(obj(e)?.AlterTableCmd)?.name)).filter((s): s is string => s !== undefined));
      return;
    case 'RenameStmt': {
      const r = rangeVar(n.relation);
      if (!r) return;
      const sub = str(n.subname);
      c.touch({ table: r.table, access: 'ddl', columns: sub === undefined ? [] : [sub] });
      const nn = str(n.newname);
      if (n.renameType === 'OBJECT_TABLE' && nn !== undefined) c.touch({ table: { schema: r.table.schema, name: nn }, access: 'ddl' });
      return;
    }
    case 'GrantStmt':
      if (n.targtype === 'ACL_TARGET_OBJECT' && TABLE_TYPES.has(str(n.objtype) ?? '')) for (const r of arr(n.objects)) rel(obj(r)?.RangeVar, 'ddl');
      return;
    case 'CopyStmt': {
      const cols = names(n.attlist);
      if (n.relation) rel(n.relation, n.is_from === true ? 'write' : 'read', cols.length > 0 ? cols : 'all');
      const inner = query(n.query);
      if (inner) c.query(inner);
      return;
    }
    case 'ExplainStmt':
    case 'PrepareStmt':
    case 'DeclareCursorStmt':
      collectPg(n.query, c);
      return;
    case 'RefreshMatViewStmt':
      rel(n.relation, 'write');
      return;
    case 'LockStmt':
      for (const r of arr(n.relations)) rel(obj(r)?.RangeVar, 'read');
      return;
    default:
  }
}
