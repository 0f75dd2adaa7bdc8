import type { StatementClass } from '../event/types.js';

/**
 * Provisional classification by leading keyword, used until the parser-backed analysis is loaded.
 * It never reports a statement it cannot place as a read: unknown text, stacked statements and
 * anything unfamiliar are 'unknown'.
 */
const classes: Record<string, StatementClass> = {
  SELECT: 'read', SHOW: 'read', DESCRIBE: 'read', DESC: 'read', EXPLAIN: 'read', TABLE: 'read', VALUES: 'read',
  INSERT: 'write', UPDATE: 'write', DELETE: 'write', MERGE: 'write', REPLACE: 'write', UPSERT: 'write',
  CREATE: 'ddl', ALTER: 'ddl', DROP: 'ddl', TRUNCATE: 'ddl', RENAME: 'ddl', COMMENT: 'ddl',
  GRANT: 'dcl', REVOKE: 'dcl',
  BEGIN: 'tcl', START: 'tcl', COMMIT: 'tcl', ROLLBACK: 'tcl', SAVEPOINT: 'tcl', RELEASE: 'tcl', END: 'tcl',
  SET: 'admin', RESET: 'admin', VACUUM: 'admin', ANALYZE: 'admin', LOCK: 'admin', KILL: 'admin', FLUSH: 'admin',
  USE: 'admin', DISCARD: 'admin', LISTEN: 'admin', NOTIFY: 'admin', UNLISTEN: 'admin',
  CALL: 'exec', DO: 'exec', EXECUTE: 'exec', PREPARE: 'exec', DEALLOCATE: 'exec',
};

export function leadingKeyword(text: string): string {
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && /\s|\(/.test(text[i]!)) i++;
    if (text.startsWith('--', i) || (text[i] === '#' )) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return '';
      i = nl + 1;
      continue;
    }
    if (text.startsWith('/*', i) && !text.startsWith('/*!', i) && !text.startsWith('/*M!', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return '';
      i = end + 2;
      continue;
    }
    break;
  }
  const m = /^[A-Za-z_]+/.exec(text.slice(i, i + 32));
  return m ? m[0].toUpperCase() : '';
}

export function classifyByLeadingKeyword(text: string | undefined): { class: StatementClass; command: string } {
  if (typeof text !== 'string' || text.length === 0) return { class: 'unknown', command: 'UNKNOWN' };
  const command = leadingKeyword(text);
  const cls = classes[command];
  // A ';' followed by more text may hide a second statement: not something a keyword can vouch for.
  const stacked = /;\s*\S/.test(text);
  if (!cls || stacked || command === 'WITH') return { class: 'unknown', command: command || 'UNKNOWN' };
  return { class: cls, command };
}
