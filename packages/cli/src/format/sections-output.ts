import type { Section } from '../report/sections.js';

/** Sections for a terminal: titles underlined, tables in padded columns. */
export function sectionsText(title: string, sections: readonly Section[]): string {
  const out: string[] = [title, '='.repeat(title.length), ''];
  for (const s of sections) {
    out.push(s.title, '-'.repeat(s.title.length));
    for (const l of s.lines) out.push(`  ${l}`);
    if (s.table) {
      const widths = s.table.header.map((h, c) => Math.max(h.length, ...s.table!.rows.map((r) => (r[c] ?? '').length)));
      const row = (cells: readonly string[]) => `  ${cells.map((x, c) => x.padEnd(widths[c]!)).join('  ').trimEnd()}`;
      out.push(row(s.table.header));
      for (const r of s.table.rows) out.push(row(r));
    }
    out.push('');
  }
  return `${out.join('\n')}`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Sections as GitHub-flavoured Markdown, for a ticket or a review document. */
export function sectionsMarkdown(title: string, sections: readonly Section[]): string {
  const out: string[] = [`# ${title}`, ''];
  for (const s of sections) {
    out.push(`## ${s.title}`, '');
    for (const l of s.lines) out.push(`- ${l}`);
    if (s.lines.length > 0) out.push('');
    if (s.table) {
      out.push(`| ${s.table.header.map(cell).join(' | ')} |`, `|${s.table.header.map(() => '---').join('|')}|`);
      for (const r of s.table.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
      out.push('');
    }
  }
  return `${out.join('\n')}`;
}
