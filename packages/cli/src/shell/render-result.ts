import { safeText } from '../format/safe-text.js';
import type { ShellResult } from './db-connection.js';

const MAX_CELL = 80;

function cell(value: unknown): string {
  let s: string;
  if (value === null || value === undefined) s = 'NULL';
  else if (value instanceof Date) s = value.toISOString();
  else if (Buffer.isBuffer(value)) s = `\\x${value.toString('hex')}`;
  else if (typeof value === 'object') s = JSON.stringify(value);
  else s = String(value);
  // Values are the database's, which an attacker may have written: escaped like evidence text.
  const safe = safeText(s);
  return safe.length > MAX_CELL ? `${safe.slice(0, MAX_CELL - 1)}…` : safe;
}

/** A result as psql-like text: a padded table and a row count, or the command and rows affected. */
export function renderResult(r: ShellResult): string {
  if (r.columns.length === 0) return `${r.command ?? 'OK'}${r.affected === undefined ? '' : ` ${r.affected}`}\n`;
  const header = r.columns.map(safeText);
  const rows = r.rows.map((row) => row.map(cell));
  // A loop, not Math.max(...spread): a result can have more rows than a call has room for arguments.
  const widths = header.map((h) => h.length);
  for (const row of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c]!, (row[c] ?? '').length);
  const line = (cells: readonly string[]) => ` ${cells.map((x, c) => x.padEnd(widths[c]!)).join(' | ')}`.trimEnd();
  const out = [line(header), `-${widths.map((w) => '-'.repeat(w)).join('-+-')}-`, ...rows.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`];
  return `${out.join('\n')}\n`;
}
