/**
 * Names the classifiers treat specially, shared by the lexical guard and both parser classifiers so the
 * two layers can never disagree about what is dangerous.
 */
import type { StatementKind } from './types.js';

export interface FunctionRule {
  readonly kind: StatementKind;
  readonly reason: string;
}

/** Functions with side effects outside the statement's own rows (lower-case, schema-less names). */
export const SIDE_EFFECT_FUNCTIONS: ReadonlyMap<string, FunctionRule> = new Map<string, FunctionRule>([
  // PostgreSQL: sessions and server
  ['pg_terminate_backend', { kind: 'admin', reason: 'terminates sessions' }],
  ['pg_cancel_backend', { kind: 'admin', reason: 'cancels queries of other sessions' }],
  ['pg_reload_conf', { kind: 'admin', reason: 'reloads server configuration' }],
  ['pg_rotate_logfile', { kind: 'admin', reason: 'rotates the server log' }],
  ['pg_promote', { kind: 'admin', reason: 'promotes a standby' }],
  ['pg_switch_wal', { kind: 'admin', reason: 'forces a WAL switch' }],
  ['pg_drop_replication_slot', { kind: 'admin', reason: 'drops a replication slot' }],
  ['pg_create_logical_replication_slot', { kind: 'admin', reason: 'creates a replication slot' }],
  ['pg_replication_origin_drop', { kind: 'admin', reason: 'drops a replication origin' }],
  ['set_config', { kind: 'admin', reason: 'changes a setting' }],
  // PostgreSQL: server files and large objects
  ['pg_read_file', { kind: 'admin', reason: 'reads a server file' }],
  ['pg_read_binary_file', { kind: 'admin', reason: 'reads a server file' }],
  ['pg_ls_dir', { kind: 'admin', reason: 'lists a server directory' }],
  ['pg_stat_file', { kind: 'admin', reason: 'reads server file metadata' }],
  ['pg_file_write', { kind: 'admin', reason: 'writes a server file' }],
  ['pg_file_unlink', { kind: 'admin', reason: 'deletes a server file' }],
  ['pg_file_rename', { kind: 'admin', reason: 'renames a server file' }],
  ['lo_import', { kind: 'admin', reason: 'reads a server file into a large object' }],
  ['lo_export', { kind: 'admin', reason: 'writes a large object to a server file' }],
  ['lo_unlink', { kind: 'write', reason: 'deletes a large object' }],
  // PostgreSQL: dynamic SQL hidden in a function call
  ['dblink', { kind: 'exec', reason: 'runs SQL through dblink' }],
  ['dblink_exec', { kind: 'exec', reason: 'runs SQL through dblink' }],
  ['dblink_send_query', { kind: 'exec', reason: 'runs SQL through dblink' }],
  ['dblink_connect', { kind: 'exec', reason: 'opens a dblink connection' }],
  ['query_to_xml', { kind: 'exec', reason: 'runs a query given as text' }],
  ['query_to_xmlschema', { kind: 'exec', reason: 'runs a query given as text' }],
  ['query_to_xml_and_xmlschema', { kind: 'exec', reason: 'runs a query given as text' }],
  ['cursor_to_xml', { kind: 'exec', reason: 'reads a cursor given by name' }],
  // MySQL / MariaDB
  ['load_file', { kind: 'admin', reason: 'reads a server file' }],
  ['sys_exec', { kind: 'exec', reason: 'runs an OS command (UDF)' }],
  ['sys_eval', { kind: 'exec', reason: 'runs an OS command (UDF)' }],
]);

/**
 * set_config on a custom placeholder (`app.tenant_id`, the usual row-level-security idiom) is what
 * `SET app.tenant_id = ...` does and is not destructive; set_config of anything else, or of a name
 * we cannot read, is treated like a SET of a protected setting.
 */
export function setConfigIsDestructive(name: string | undefined): boolean {
  if (name === undefined) return true;
  const n = name.toLowerCase();
  if (!/^[a-z_][a-z0-9_$]*\.[a-z_][a-z0-9_$.]*$/.test(n)) return true;
  return isProtectedSetting(n);
}

/** Settings that switch auditing, logging or triggers (including audit triggers) off. */
export function isProtectedSetting(name: string): boolean {
  const n = name.toLowerCase().replace(/^@@(global|session|local|persist|persist_only)\./, '').replace(/^@@/, '');
  if (n.startsWith('pgaudit.') || n.startsWith('pgaudit')) return true;
  if (n.startsWith('log_') || n === 'logging_collector' || n.startsWith('track_')) return true;
  if (n === 'session_replication_role') return true;
  if (n === 'sql_log_bin' || n === 'sql_log_off' || n === 'general_log' || n === 'general_log_file') return true;
  if (n === 'slow_query_log' || n === 'slow_query_log_file' || n.startsWith('binlog_')) return true;
  if (n.startsWith('server_audit') || n.startsWith('audit_log')) return true;
  if (n === 'event_scheduler' || n === 'log_bin_trust_function_creators') return true;
  return false;
}
