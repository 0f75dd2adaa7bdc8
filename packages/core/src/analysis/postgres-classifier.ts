/** Classifies one statement of libpg-query's AST (the real PostgreSQL grammar). */
import { arr, type Node, obj, str, tagged, walk } from './ast.js';
import { isProtectedSetting, SIDE_EFFECT_FUNCTIONS, setConfigIsDestructive } from './rules.js';
import { mostSevere } from './severity.js';
import type { StatementKind } from './types.js';

export interface Verdict {
  kind: StatementKind;
  command: string;
  destructive: boolean;
  reasons: string[];
  /** PREPARE / EXECUTE / DEALLOCATE target. */
  name?: string;
}

const COMMANDS: Readonly<Record<string, string>> = {
  SelectStmt: 'SELECT', InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE',
  CreateStmt: 'CREATE TABLE', IndexStmt: 'CREATE INDEX', ViewStmt: 'CREATE VIEW', CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE', TruncateStmt: 'TRUNCATE', RenameStmt: 'RENAME', GrantRoleStmt: 'GRANT ROLE',
  TransactionStmt: 'TRANSACTION', VariableSetStmt: 'SET', VariableShowStmt: 'SHOW', ExplainStmt: 'EXPLAIN',
  CopyStmt: 'COPY', DoStmt: 'DO', CallStmt: 'CALL', ExecuteStmt: 'EXECUTE', PrepareStmt: 'PREPARE',
  DeallocateStmt: 'DEALLOCATE', LockStmt: 'LOCK', VacuumStmt: 'VACUUM', CheckPointStmt: 'CHECKPOINT',
  DiscardStmt: 'DISCARD', ListenStmt: 'LISTEN', NotifyStmt: 'NOTIFY', UnlistenStmt: 'UNLISTEN', LoadStmt: 'LOAD',
  ClusterStmt: 'CLUSTER', ReindexStmt: 'REINDEX', DeclareCursorStmt: 'DECLARE CURSOR', FetchStmt: 'FETCH',
  ClosePortalStmt: 'CLOSE', RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW', AlterSystemStmt: 'ALTER SYSTEM',
  CommentStmt: 'COMMENT', ConstraintsSetStmt: 'SET CONSTRAINTS', CreateFunctionStmt: 'CREATE FUNCTION',
  CreateRoleStmt: 'CREATE ROLE', AlterRoleStmt: 'ALTER ROLE', DropRoleStmt: 'DROP ROLE', CreateTrigStmt: 'CREATE TRIGGER',
  CreateSchemaStmt: 'CREATE SCHEMA', CreateSeqStmt: 'CREATE SEQUENCE', CreateExtensionStmt: 'CREATE EXTENSION',
  DropOwnedStmt: 'DROP OWNED', ReassignOwnedStmt: 'REASSIGN OWNED', CreatePolicyStmt: 'CREATE POLICY',
};

const TX_COMMANDS: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN', TRANS_STMT_START: 'START TRANSACTION', TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK', TRANS_STMT_SAVEPOINT: 'SAVEPOINT', TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO', TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED', TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

const KINDS: Readonly<Record<string, StatementKind>> = {
  SelectStmt: 'read', VariableShowStmt: 'read', ExplainStmt: 'read', DeclareCursorStmt: 'read', FetchStmt: 'read',
  ClosePortalStmt: 'read', InsertStmt: 'write', UpdateStmt: 'write', DeleteStmt: 'write', MergeStmt: 'write',
  RefreshMatViewStmt: 'write', TransactionStmt: 'tcl', LockStmt: 'tcl', ConstraintsSetStmt: 'tcl',
  VariableSetStmt: 'admin', AlterSystemStmt: 'admin', VacuumStmt: 'admin', CheckPointStmt: 'admin',
  DiscardStmt: 'admin', ListenStmt: 'admin', NotifyStmt: 'admin', UnlistenStmt: 'admin', LoadStmt: 'admin',
  ClusterStmt: 'admin', ReindexStmt: 'admin', DeallocateStmt: 'admin', DoStmt: 'exec', CallStmt: 'exec',
  ExecuteStmt: 'exec', GrantStmt: 'dcl', GrantRoleStmt: 'dcl', CreateRoleStmt: 'dcl', AlterRoleStmt: 'dcl',
  AlterRoleSetStmt: 'dcl', DropRoleStmt: 'dcl', AlterDefaultPrivilegesStmt: 'dcl', DropOwnedStmt: 'dcl',
  ReassignOwnedStmt: 'dcl', CreateUserMappingStmt: 'dcl', AlterUserMappingStmt: 'dcl', DropUserMappingStmt: 'dcl',
};

function objType(x: unknown): string {
  const s = str(x);
  return s ? s.replace(/^OBJECT_/, '').replace(/_/g, ' ') : '';
}

function tagToCommand(tag: string): string {
  return tag
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

/** A constant's value (A_Const, possibly cast), or undefined when the node is not a constant. */
function constValue(x: unknown): string | number | boolean | null | undefined {
  const t = tagged(x);
  if (!t) return undefined;
  const [k, v] = t;
  const n = obj(v);
  if (!n) return undefined;
  if (k === 'TypeCast') return constValue(n.arg);
  if (k !== 'A_Const') return undefined;
  if (n.isnull === true) return null;
  const b = obj(n.boolval);
  if (b) return b.boolval === true;
  const i = obj(n.ival);
  if (i) return typeof i.ival === 'number' ? i.ival : 0;
  const f = obj(n.fval);
  if (f) return Number(str(f.fval) ?? 'NaN');
  const s = obj(n.sval);
  if (s) return str(s.sval) ?? '';
  return undefined;
}

function truthy(c: string | number | boolean | null | undefined): boolean {
  if (c === true) return true;
  if (typeof c === 'number') return c !== 0 && !Number.isNaN(c);
  if (typeof c === 'string') return /^(t|true|y|yes|on|1)$/i.test(c.trim()) || (Number(c) !== 0 && !Number.isNaN(Number(c)) && c.trim() !== '');
  return false;
}

function falsy(c: string | number | boolean | null | undefined): boolean {
  return c === false || c === 0 || c === null || (typeof c === 'string' && /^(f|false|n|no|off|0)$/i.test(c.trim()));
}

/** True when a WHERE condition selects every row (1=1, true, x = x, a OR true, ...). */
export function isTautology(x: unknown, depth = 0): boolean {
  if (depth > 50) return false;
  const c = constValue(x);
  if (c !== undefined) return truthy(c);
  const t = tagged(x);
  if (!t) return false;
  const n = obj(t[1]);
  if (!n) return false;
  switch (t[0]) {
    case 'BoolExpr': {
      const args = arr(n.args);
      if (n.boolop === 'AND_EXPR') return args.length > 0 && args.every((a) => isTautology(a, depth + 1));
      if (n.boolop === 'OR_EXPR') return args.some((a) => isTautology(a, depth + 1));
      if (n.boolop === 'NOT_EXPR') return args.length === 1 && isContradiction(args[0], depth + 1);
      return false;
    }
    case 'A_Expr': {
      if (n.kind !== 'AEXPR_OP') return false;
      const op = str(obj(tagged(arr(n.name).at(-1))?.[1])?.sval);
      const l = constValue(n.lexpr);
      const r = constValue(n.rexpr);
      if (l !== undefined && r !== undefined && l !== null && r !== null) {
        const a = typeof l === 'boolean' ? Number(l) : l;
        const b = typeof r === 'boolean' ? Number(r) : r;
        switch (op) {
          case '=': return String(a) === String(b);
          case '<>': case '!=': return String(a) !== String(b);
          case '<': return a < b;
          case '>': return a > b;
          case '<=': return a <= b;
          case '>=': return a >= b;
          default: return false;
        }
      }
      // x = x is true for every non-null x: treat as no condition.
      if ((op === '=' || op === '<=' || op === '>=') && JSON.stringify(stripLoc(n.lexpr)) === JSON.stringify(stripLoc(n.rexpr)) && tagged(n.lexpr)?.[0] === 'ColumnRef') return true;
      return false;
    }
    case 'NullTest':
      return n.nulltesttype === 'IS_NOT_NULL' && constValue(n.arg) !== undefined && constValue(n.arg) !== null;
    case 'BooleanTest':
      if (n.booltesttype === 'IS_TRUE' || n.booltesttype === 'IS_NOT_FALSE') return isTautology(n.arg, depth + 1);
      if (n.booltesttype === 'IS_FALSE' || n.booltesttype === 'IS_NOT_TRUE') return isContradiction(n.arg, depth + 1);
      return false;
    default:
      return false;
  }
}

function isContradiction(x: unknown, depth: number): boolean {
  const c = constValue(x);
  if (c !== undefined) return falsy(c);
  const t = tagged(x);
  const n = obj(t?.[1]);
  if (!t || !n) return false;
  if (t[0] === 'BoolExpr') {
    const args = arr(n.args);
    if (n.boolop === 'AND_EXPR') return args.some((a) => isContradiction(a, depth + 1));
    if (n.boolop === 'OR_EXPR') return args.every((a) => isContradiction(a, depth + 1));
    if (n.boolop === 'NOT_EXPR') return args.length === 1 && isTautology(args[0], depth + 1);
  }
  return false;
}

function stripLoc(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x ?? null, (k, v: unknown) => (k === 'location' ? undefined : v)));
}

function explainAnalyzes(n: Node): boolean {
  for (const o of arr(n.options)) {
    const d = obj(obj(o)?.DefElem);
    if (!d || str(d.defname) !== 'analyze') continue;
    const arg = d.arg === undefined ? undefined : constOrString(d.arg);
    if (arg === undefined || !/^(false|off|0|no)$/i.test(arg)) return true;
  }
  return false;
}

function constOrString(x: unknown): string | undefined {
  const t = tagged(x);
  const n = obj(t?.[1]);
  if (!t || !n) return undefined;
  if (t[0] === 'String') return str(n.sval);
  if (t[0] === 'Boolean') return n.boolval === true ? 'true' : 'false';
  if (t[0] === 'Integer') return String(n.ival ?? 0);
  return undefined;
}

export function classifyPg(stmt: unknown): Verdict {
  const t = tagged(stmt);
  if (!t) return { kind: 'unknown', command: '', destructive: true, reasons: ['empty statement node'] };
  const [tag, raw] = t;
  const n = obj(raw) ?? {};
  const v: Verdict = { kind: KINDS[tag] ?? 'unknown', command: COMMANDS[tag] ?? tagToCommand(tag), destructive: false, reasons: [] };
  const flag = (reason: string, kind?: StatementKind): void => {
    v.destructive = true;
    if (!v.reasons.includes(reason)) v.reasons.push(reason);
    if (kind) v.kind = mostSevere(v.kind, kind);
  };
  const merge = (inner: Verdict): void => {
    v.kind = mostSevere(v.kind, inner.kind);
    if (inner.destructive) v.destructive = true;
    for (const r of inner.reasons) if (!v.reasons.includes(r)) v.reasons.push(r);
  };

  if (v.kind === 'unknown') {
    if (tag.startsWith('Create') || tag.startsWith('Define') || tag.startsWith('Alter') || tag.startsWith('Drop')
      || tag === 'TruncateStmt' || tag === 'RenameStmt' || tag === 'CommentStmt' || tag === 'SecLabelStmt'
      || tag === 'IndexStmt' || tag === 'ViewStmt' || tag === 'CompositeTypeStmt' || tag === 'RuleStmt'
      || tag === 'ImportForeignSchemaStmt' || tag === 'CreatedbStmt' || tag === 'DropdbStmt') v.kind = 'ddl';
  }

  switch (tag) {
    case 'SelectStmt':
      if (n.intoClause) {
        v.kind = 'ddl';
        v.command = 'SELECT INTO';
      }
      break;
    case 'UpdateStmt':
    case 'DeleteStmt': {
      const verb = tag === 'UpdateStmt' ? 'UPDATE' : 'DELETE';
      if (n.whereClause === undefined) flag(`${verb} without WHERE`);
      else if (n.currentOfExpr === undefined && isTautology(n.whereClause)) flag(`${verb} with a WHERE that is always true`);
      break;
    }
    case 'MergeStmt': {
      const acts = arr(n.mergeWhenClauses).map((c) => str(obj(obj(c)?.MergeWhenClause)?.commandType));
      if (isTautology(n.joinCondition) && acts.some((a) => a === 'CMD_UPDATE' || a === 'CMD_DELETE')) flag('MERGE with a join condition that is always true');
      break;
    }
    case 'DropStmt':
      v.command = `DROP ${objType(n.removeType)}`.trim();
      flag(v.command);
      break;
    case 'TruncateStmt':
      flag('TRUNCATE');
      break;
    case 'RenameStmt':
      v.command = `ALTER ${objType(n.renameType)} RENAME`.replace(/\s+/g, ' ');
      flag('RENAME');
      break;
    case 'GrantStmt':
      v.command = n.is_grant === true ? 'GRANT' : 'REVOKE';
      flag(v.command);
      break;
    case 'GrantRoleStmt':
      v.command = n.is_grant === true ? 'GRANT ROLE' : 'REVOKE ROLE';
      flag(v.command);
      break;
    case 'AlterTableStmt':
      v.command = `ALTER ${objType(n.objtype) || 'TABLE'}`;
      break;
    case 'CreateTableAsStmt':
      v.command = n.objtype === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
      break;
    case 'CreateRoleStmt': {
      const risky = arr(n.options).some((o) => {
        const d = obj(obj(o)?.DefElem);
        const name = str(d?.defname) ?? '';
        return ['superuser', 'createrole', 'bypassrls', 'isreplication'].includes(name) && constOrString(d?.arg) !== 'false';
      });
      if (risky) flag('CREATE ROLE with elevated privileges');
      break;
    }
    case 'TransactionStmt':
      v.command = TX_COMMANDS[str(n.kind) ?? ''] ?? 'TRANSACTION';
      break;
    case 'VariableSetStmt': {
      const name = str(n.name) ?? '';
      if (n.kind === 'VAR_RESET_ALL') flag('RESET ALL may restore audit settings to defaults');
      if (name === 'role' || name === 'session_authorization') v.kind = 'dcl';
      if (name === 'transaction' || name === 'TRANSACTION' || name.startsWith('transaction_')) v.kind = 'tcl';
      if (isProtectedSetting(name)) flag(`audit/log setting changed: ${name}`);
      v.command = n.kind === 'VAR_RESET' || n.kind === 'VAR_RESET_ALL' ? 'RESET' : 'SET';
      break;
    }
    case 'AlterSystemStmt':
      flag('ALTER SYSTEM');
      break;
    case 'ExplainStmt':
      if (explainAnalyzes(n)) {
        v.command = 'EXPLAIN ANALYZE';
        const inner = classifyPg(n.query);
        merge(inner);
        if (inner.kind === 'write') v.reasons.push('EXPLAIN ANALYZE executes the statement');
      }
      // Plain EXPLAIN plans without executing: nothing inside runs.
      return v;
    case 'CopyStmt':
      v.kind = n.is_from === true ? 'write' : 'read';
      if (n.is_program === true) flag(`COPY ${n.is_from === true ? 'FROM' : 'TO'} PROGRAM: runs a server command`, 'admin');
      else if (str(n.filename) !== undefined) flag(`COPY ${n.is_from === true ? 'FROM' : 'TO'} a server file`, 'admin');
      break;
    case 'DoStmt':
      flag('dynamic SQL: DO');
      break;
    case 'CallStmt':
      flag('dynamic SQL: CALL');
      break;
    case 'ExecuteStmt':
      v.name = str(n.name) ?? '';
      flag(`dynamic SQL: EXECUTE of unknown prepared statement ${v.name}`);
      break;
    case 'PrepareStmt': {
      v.name = str(n.name) ?? '';
      const inner = classifyPg(n.query);
      v.kind = inner.kind;
      if (inner.destructive) v.destructive = true;
      v.reasons.push(...inner.reasons);
      return v;
    }
    case 'DeallocateStmt':
      v.name = n.isall === true ? '*' : (str(n.name) ?? '');
      break;
    case 'LoadStmt':
      flag('LOAD: loads a server library');
      break;
    case 'DiscardStmt':
      v.name = '*';
      break;
    default:
      if (tag.startsWith('Alter')) flag(v.command || 'ALTER');
      else if (tag.startsWith('Drop')) flag(v.command || 'DROP');
      else if (tag === 'ReassignOwnedStmt') flag('REASSIGN OWNED');
  }
  if (tag.startsWith('Alter') && !v.destructive) flag(v.command);

  // Data-modifying CTEs, side-effect functions: anywhere in the tree.
  walk(n, (key, value) => {
    if (key === 'CommonTableExpr') {
      const q = obj(value)?.ctequery;
      const qt = tagged(q)?.[0];
      if (qt === 'InsertStmt' || qt === 'UpdateStmt' || qt === 'DeleteStmt' || qt === 'MergeStmt') {
        const inner = classifyPg(q);
        merge(inner);
        if (!v.reasons.includes('data-modifying CTE')) v.reasons.push('data-modifying CTE');
        return false;
      }
    } else if (key === 'FuncCall') {
      const f = obj(value);
      const name = str(obj(tagged(arr(f?.funcname).at(-1))?.[1])?.sval)?.toLowerCase();
      const rule = name ? SIDE_EFFECT_FUNCTIONS.get(name) : undefined;
      if (name && rule) {
        if (name === 'set_config') {
          v.kind = mostSevere(v.kind, 'admin');
          const first = constValue(arr(f?.args)[0]);
          const setting = typeof first === 'string' ? first : undefined;
          if (setConfigIsDestructive(setting)) flag(`set_config changes ${setting ?? 'a setting'}`, 'admin');
        } else flag(`${name}(): ${rule.reason}`, rule.kind);
      }
    }
    return true;
  });
  return v;
}
