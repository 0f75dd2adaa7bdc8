import type { Section } from '../report/sections.js';
import { safeText } from './safe-text.js';

/** Sections for a terminal: titles underlined, tables in padded columns; text from the evidence escaped. */
export function sectionsText(title: string, sections: readonly Section[]): string {
  const t = safeText(title);
  const out: string[] = [t, '='.repeat(t.length), ''];
  for (const s of sections) {
    const heading = safeText(s.title);
    out.push(heading, '-'.repeat(heading.length));
    for (const l of s.lines) out.push(`  ${safeText(l)}`);
    if (s.table) {
      const header = s.table.header.map(safeText);
      const rows = s.table.rows.map((r) => r.map(safeText));
      // A loop, not Math.max(...spread): a table can have more rows than a call has room for arguments.
      const widths = header.map((h) => h.length);
      for (const r of rows) for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c]!, (r[c] ?? '').length);
      const row = (cells: readonly string[]) => `  ${cells.map((x, c) => x.padEnd(widths[c]!)).join('  ').trimEnd()}`;
      out.push(row(header));
      for (const r of rows) out.push(row(r));
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * Markdown that renders what the evidence says and nothing else: control characters escaped, and
 * every character Markdown, GFM or HTML would act on backslash-escaped: emphasis, code, links and
 * autolinks (`:` breaks `https://`, `.` breaks `www.`), strikethrough, entities (`&`), tags and table cells.
 */
function md(s: string): string {
  return safeText(s).replace(/[\\`*_[\]<>|#!~&:.]/g, (c) => `\\${c}`);
}

/** Sections as GitHub-flavoured Markdown, for a ticket or a review document. */
export function sectionsMarkdown(title: string, sections: readonly Section[]): string {
  const out: string[] = [`# ${md(title)}`, ''];
  for (const s of sections) {
    out.push(`## ${md(s.title)}`, '');
    for (const l of s.lines) out.push(`- ${md(l)}`);
    if (s.lines.length > 0) out.push('');
    if (s.table) {
      out.push(`| ${s.table.header.map(md).join(' | ')} |`, `|${s.table.header.map(() => '---').join('|')}|`);
      for (const r of s.table.rows) out.push(`| ${r.map(md).join(' | ')} |`);
      out.push('');
    }
  }
  return out.join('\n');
}
