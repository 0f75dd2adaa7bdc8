/** Classifies one statement of sqlparser-rs's AST (MySQL dialect), used for MySQL and MariaDB. */
import { arr, type Node, obj, str, tagged, walk } from './ast.js';
import type { Verdict } from './postgres-classifier.js';
import { isProtectedSetting, SIDE_EFFECT_FUNCTIONS } from './rules.js';
import { mostSevere } from './severity.js';
import type { StatementKind } from './types.js';

const KINDS: Readonly<Record<string, StatementKind>> = {
  Query: 'read', Insert: 'write', Update: 'write', Delete: 'write', Merge: 'write', Truncate: 'ddl',
  RenameTable: 'ddl', Grant: 'dcl', Revoke: 'dcl', StartTransaction: 'tcl', Commit: 'tcl', Rollback: 'tcl',
  Savepoint: 'tcl', ReleaseSavepoint: 'tcl', LockTables: 'tcl', UnlockTables: 'tcl', Set: 'admin', Kill: 'admin',
  Flush: 'admin', Use: 'admin', Analyze: 'admin', OptimizeTable: 'admin', Call: 'exec', Execute: 'exec',
  Prepare: 'exec', Deallocate: 'admin', Explain: 'read', ExplainTable: 'read', Comment: 'ddl', Drop: 'ddl',
  CreateUser: 'dcl', CreateRole: 'dcl', AlterUser: 'dcl', AlterRole: 'dcl', Load: 'write', Copy: 'write',
};

const COMMANDS: Readonly<Record<string, string>> = {
  Query: 'SELECT', Insert: 'INSERT', Update: 'UPDATE', Delete: 'DELETE', Merge: 'MERGE', Truncate: 'TRUNCATE',
  RenameTable: 'RENAME TABLE', Grant: 'GRANT', Revoke: 'REVOKE', StartTransaction: 'START TRANSACTION',
  Commit: 'COMMIT', Rollback: 'ROLLBACK', Savepoint: 'SAVEPOINT', ReleaseSavepoint: 'RELEASE SAVEPOINT',
  LockTables: 'LOCK TABLES', UnlockTables: 'UNLOCK TABLES', Set: 'SET', Kill: 'KILL', Flush: 'FLUSH', Use: 'USE',
  Call: 'CALL', Execute: 'EXECUTE', Prepare: 'PREPARE', Deallocate: 'DEALLOCATE', Explain: 'EXPLAIN',
  ExplainTable: 'DESCRIBE', AlterTable: 'ALTER TABLE', CreateTable: 'CREATE TABLE', CreateIndex: 'CREATE INDEX',
  CreateView: 'CREATE VIEW',
};

function tagToCommand(tag: string): string {
  return tag.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** Identifier parts of an ObjectName ([{Identifier:{value}}] or [{value}]). */
export function identParts(x: unknown): string[] {
  return arr(x).map((p) => {
    const n = obj(p);
    return str(obj(n?.Identifier)?.value) ?? str(n?.value) ?? '';
  });
}

function constOf(x: unknown): string | number | boolean | null | undefined {
  const t = tagged(x);
  if (!t) return undefined;
  const n = obj(t[1]);
  if (t[0] === 'Nested') return constOf(t[1]);
  if (t[0] === 'Value') {
    const v = n?.value;
    if (v === 'Null') return null;
    const vt = tagged(v);
    if (!vt) return undefined;
    if (vt[0] === 'Number') return Number(str(arr(vt[1])[0]) ?? 'NaN');
    if (vt[0] === 'Boolean') return vt[1] === true;
    if (vt[0] === 'SingleQuotedString' || vt[0] === 'DoubleQuotedString') return str(vt[1]) ?? '';
    return undefined;
  }
  if (t[0] === 'UnaryOp' && n?.op === 'Minus') {
    const c = constOf(n.expr);
    return typeof c === 'number' ? -c : undefined;
  }
  return undefined;
}

/** MySQL truthiness: numbers non-zero, strings by their numeric prefix. */
function truthy(c: string | number | boolean | null | undefined): boolean {
  if (c === true) return true;
  if (typeof c === 'number') return c !== 0 && !Number.isNaN(c);
  if (typeof c === 'string') {
    const m = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?/i.exec(c);
    return m !== null && Number(m[0]) !== 0;
  }
  return false;
}

export function isTautologyMy(x: unknown, depth = 0): boolean {
  if (depth > 50) return false;
  const c = constOf(x);
  if (c !== undefined) return truthy(c);
  const t = tagged(x);
  const n = obj(t?.[1]);
  if (!t) return false;
  if (t[0] === 'Nested') return isTautologyMy(t[1], depth + 1);
  if (!n) return false;
  if (t[0] === 'BinaryOp') {
    const op = str(n.op);
    if (op === 'Or' || op === 'Xor') return op === 'Or' ? isTautologyMy(n.left, depth + 1) || isTautologyMy(n.right, depth + 1) : false;
    if (op === 'And') return isTautologyMy(n.left, depth + 1) && isTautologyMy(n.right, depth + 1);
    const l = constOf(n.left);
    const r = constOf(n.right);
    if (l !== undefined && r !== undefined && l !== null && r !== null) {
      const a = typeof l === 'boolean' ? Number(l) : l;
      const b = typeof r === 'boolean' ? Number(r) : r;
      const num = typeof a === 'number' || typeof b === 'number';
      const x1 = num ? Number(a) : String(a).toLowerCase();
      const y1 = num ? Number(b) : String(b).toLowerCase();
      switch (op) {
        case 'Eq': case 'Spaceship': return x1 === y1;
        case 'NotEq': return x1 !== y1;
        case 'Lt': return x1 < y1;
        case 'Gt': return x1 > y1;
        case 'LtEq': return x1 <= y1;
        case 'GtEq': return x1 >= y1;
        default: return false;
      }
    }
    if ((op === 'Eq' || op === 'LtEq' || op === 'GtEq' || op === 'Spaceship') && isColumn(n.left) && JSON.stringify(stripSpans(n.left)).toLowerCase() === JSON.stringify(stripSpans(n.right)).toLowerCase()) return true;
    return false;
  }
  if (t[0] === 'UnaryOp' && n.op === 'Not') return isContradictionMy(n.expr, depth + 1);
  if (t[0] === 'IsTrue' || t[0] === 'IsNotFalse') return isTautologyMy(t[1], depth + 1);
  if (t[0] === 'IsNotNull') return constOf(t[1]) !== undefined && constOf(t[1]) !== null;
  return false;
}

function isContradictionMy(x: unknown, depth: number): boolean {
  const c = constOf(x);
  if (c !== undefined) return !truthy(c);
  const t = tagged(x);
  const n = obj(t?.[1]);
  if (t?.[0] === 'Nested') return isContradictionMy(t[1], depth + 1);
  if (t?.[0] === 'UnaryOp' && n?.op === 'Not') return isTautologyMy(n.expr, depth + 1);
  if (t?.[0] === 'BinaryOp' && n) {
    if (n.op === 'And') return isContradictionMy(n.left, depth + 1) || isContradictionMy(n.right, depth + 1);
    if (n.op === 'Or') return isContradictionMy(n.left, depth + 1) && isContradictionMy(n.right, depth + 1);
  }
  return false;
}

function isColumn(x: unknown): boolean {
  const k = tagged(x)?.[0];
  return k === 'Identifier' || k === 'CompoundIdentifier';
}

function stripSpans(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x ?? null, (k, v: unknown) => (k === 'span' ? undefined : v)));
}

function settingNames(n: Node): Array<{ name: string; global: boolean }> {
  const out: Array<{ name: string; global: boolean }> = [];
  const single = obj(n.SingleAssignment);
  if (single) {
    const scope = str(single.scope) ?? '';
    out.push({ name: identParts(single.variable).join('.'), global: /global|persist/i.test(scope) });
  }
  for (const a of arr(obj(n.MultipleAssignments)?.assignments)) {
    const an = obj(a);
    const scope = str(an?.scope) ?? '';
    out.push({ name: identParts(an?.name).join('.'), global: /global|persist/i.test(scope) });
  }
  return out;
}

export function classifyMy(stmt: unknown): Verdict {
  const t = tagged(stmt);
  if (!t) return { kind: 'unknown', command: '', destructive: true, reasons: ['empty statement node'] };
  const [tag, raw] = t;
  const n = obj(raw) ?? {};
  let kind: StatementKind = KINDS[tag] ?? 'unknown';
  if (kind === 'unknown') {
    if (tag.startsWith('Show')) kind = 'read';
    else if (tag.startsWith('Create') || tag.startsWith('Alter') || tag.startsWith('Drop')) kind = 'ddl';
  }
  // Show*: sqlparser's variant names are not the statement's words (SHOW GRANTS is ShowVariable); the guard's are.
  const command = tag.startsWith('Show') ? '' : (COMMANDS[tag] ?? tagToCommand(tag));
  const v: Verdict = { kind, command, destructive: false, reasons: [] };
  const flag = (reason: string, k?: StatementKind): void => {
    v.destructive = true;
    if (!v.reasons.includes(reason)) v.reasons.push(reason);
    if (k) v.kind = mostSevere(v.kind, k);
  };
  switch (tag) {
    case 'Insert':
      if (n.replace_into === true) v.command = 'REPLACE';
      break;
    case 'Update':
    case 'Delete': {
      const verb = tag.toUpperCase();
      if (n.selection === undefined || n.selection === null) flag(`${verb} without WHERE`);
      else if (isTautologyMy(n.selection)) flag(`${verb} with a WHERE that is always true`);
      break;
    }
    case 'Drop': {
      const ot = str(n.object_type) ?? '';
      v.command = `DROP ${ot.toUpperCase()}`.trim();
      if (ot === 'User' || ot === 'Role') v.kind = 'dcl';
      flag(v.command);
      break;
    }
    case 'Truncate':
      flag('TRUNCATE');
      break;
    case 'RenameTable':
      flag('RENAME');
      break;
    case 'Grant':
    case 'Revoke':
      flag(v.command);
      break;
    case 'Kill':
      flag('KILL: terminates a session');
      break;
    case 'Call':
      flag('dynamic SQL: CALL');
      break;
    case 'Execute':
      v.name = identParts(n.name).join('.');
      flag(`dynamic SQL: EXECUTE of unknown prepared statement ${v.name}`);
      break;
    case 'Deallocate':
      v.name = str(obj(n.name)?.value) ?? '';
      break;
    case 'Explain':
      if (n.analyze === true) {
        v.command = 'EXPLAIN ANALYZE';
        const inner = classifyMy(n.statement);
        v.kind = mostSevere(v.kind, inner.kind);
        if (inner.destructive) v.destructive = true;
        v.reasons.push(...inner.reasons);
      }
      return v;
    case 'Set':
      for (const s of settingNames(n)) {
        if (isProtectedSetting(s.name)) flag(`audit/log setting changed: ${s.name.toLowerCase()}`);
        if (s.global || /^@@(global|persist)/i.test(s.name)) flag('server-wide setting changed');
      }
      if (n.SetTransaction || obj(n.SetTransaction)) v.kind = 'tcl';
      if (n.SetRole) v.kind = 'dcl';
      break;
    default:
      if (tag.startsWith('Alter')) flag(v.command);
      else if (tag.startsWith('Drop')) flag(v.command);
      if (tag === 'CreateTable' && n.or_replace === true) flag('CREATE OR REPLACE TABLE drops the existing table');
  }
  if (tag === 'CreateTable' && n.query) v.command = 'CREATE TABLE AS';

  walk(n, (key, value) => {
    if (key !== 'Function') return true;
    const name = identParts(obj(value)?.name).at(-1)?.toLowerCase();
    const rule = name ? SIDE_EFFECT_FUNCTIONS.get(name) : undefined;
    if (name && rule && name !== 'set_config') flag(`${name}(): ${rule.reason}`, rule.kind);
    return true;
  });
  return v;
}
