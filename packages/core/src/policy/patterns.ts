/**
 * Name patterns: `schema.table.column` (sensitive columns), `schema.table` / `table` (scopes, views),
 * single names (schema, database). Each part is either unquoted — compared case-insensitively, `*`
 * matches any run of characters — or double-quoted ("Users", with "" for a quote) and compared
 * exactly, without wildcards.
 *
 * Why case-insensitive by default: PostgreSQL folds unquoted identifiers to lower case, so the
 * analysis reports `USERS` as `users` but `"Users"` as `Users`; MySQL/MariaDB report names as written
 * (column names are never case-sensitive there). An unquoted pattern covers every spelling, which
 * over-reports at worst — the safe side for tagging. Quote a part to require one exact spelling.
 */

export type Segment = { readonly kind: 'any' } | { readonly kind: 'exact'; readonly value: string; readonly ci: boolean } | { readonly kind: 're'; readonly re: RegExp };

const ANY: Segment = Object.freeze({ kind: 'any' });

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Splits on dots outside double quotes; returns an error message or the raw parts with a quoted flag. */
function split(text: string): { parts: { text: string; quoted: boolean }[] } | string {
  const parts: { text: string; quoted: boolean }[] = [];
  let i = 0;
  const n = text.length;
  if (n === 0) return 'empty pattern';
  for (;;) {
    if (text[i] === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= n) return `unterminated quote in ${JSON.stringify(text)}`;
        if (text[j] === '"') {
          if (text[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      if (value === '') return `empty quoted name in ${JSON.stringify(text)}`;
      parts.push({ text: value, quoted: true });
      i = j + 1;
    } else {
      let j = i;
      while (j < n && text[j] !== '.' && text[j] !== '"') j++;
      const value = text.slice(i, j);
      if (value === '') return `empty part in ${JSON.stringify(text)}`;
      if (/\s/.test(value)) return `whitespace in ${JSON.stringify(text)} (quote the name: "my table")`;
      if (text[j] === '"') return `misplaced quote in ${JSON.stringify(text)}`;
      parts.push({ text: value, quoted: false });
      i = j;
    }
    if (i >= n) break;
    if (text[i] !== '.') return `misplaced quote in ${JSON.stringify(text)}`;
    i++;
    if (i >= n) return `empty part in ${JSON.stringify(text)}`;
  }
  return { parts };
}

function segment(p: { text: string; quoted: boolean }): Segment {
  if (p.quoted) return { kind: 'exact', value: p.text, ci: false };
  if (p.text === '*') return ANY;
  if (!p.text.includes('*')) return { kind: 'exact', value: p.text.toLowerCase(), ci: true };
  const re = new RegExp(`^${p.text.split('*').map(escapeRe).join('.*')}$`, 'is');
  return { kind: 're', re };
}

export function segmentMatches(seg: Segment, name: string): boolean {
  switch (seg.kind) {
    case 'any':
      return true;
    case 'exact':
      return seg.ci ? name.length === seg.value.length && name.toLowerCase() === seg.value : name === seg.value;
    case 're':
      return seg.re.test(name);
  }
}

export interface ColumnPattern {
  readonly text: string;
  readonly schema: Segment;
  readonly table: Segment;
  readonly column: Segment;
}

/** `schema.table.column` → matcher, or an error message. */
export function parseColumnPattern(text: string): ColumnPattern | string {
  const r = split(text);
  if (typeof r === 'string') return r;
  if (r.parts.length !== 3) {
    return `expected schema.table.column (3 parts, * as wildcard), got ${JSON.stringify(text)} with ${r.parts.length} part${r.parts.length === 1 ? '' : 's'}`;
  }
  const [s, t, c] = r.parts as [{ text: string; quoted: boolean }, { text: string; quoted: boolean }, { text: string; quoted: boolean }];
  return Object.freeze({ text, schema: segment(s), table: segment(t), column: segment(c) });
}

export interface NamePattern {
  readonly text: string;
  /** Absent for a one-part table pattern: any schema. */
  readonly schema: Segment;
  readonly name: Segment;
}

/** One part (`name`) or, when `maxParts` is 2, `schema.name` too. */
export function parseNamePattern(text: string, maxParts: 1 | 2): NamePattern | string {
  const r = split(text);
  if (typeof r === 'string') return r;
  if (r.parts.length > maxParts) {
    return maxParts === 1 ? `expected one name, got ${JSON.stringify(text)} (quote a name that contains a dot)` : `expected "table" or "schema.table", got ${JSON.stringify(text)}`;
  }
  const last = r.parts[r.parts.length - 1]!;
  return Object.freeze({ text, schema: r.parts.length === 2 ? segment(r.parts[0]!) : ANY, name: segment(last) });
}

export function mustColumnPattern(text: string): ColumnPattern {
  const r = parseColumnPattern(text);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

export function mustNamePattern(text: string, maxParts: 1 | 2): NamePattern {
  const r = parseNamePattern(text, maxParts);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

/** Matches a single name against a list of one-part patterns (any). */
export function nameMatcher(patterns: readonly string[]): (name: string | undefined) => boolean {
  const segs = patterns.map((p) => mustNamePattern(p, 1).name);
  return (name) => name !== undefined && segs.some((s) => segmentMatches(s, name));
}

/** Whole-string glob (`*` wildcard), exact case: for actor ids, which may contain dots. */
export function globMatcher(patterns: readonly string[]): (value: string | undefined) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const res = patterns.filter((p) => p.includes('*')).map((p) => new RegExp(`^${p.split('*').map(escapeRe).join('.*')}$`, 's'));
  return (v) => v !== undefined && (exact.has(v) || res.some((r) => r.test(v)));
}
