/**
 * Cuts typed input into statements at each `;` that ends one: not inside a quoted string or
 * identifier ('…', "…", `…`), a PostgreSQL dollar-quoted body ($tag$…$tag$) or a comment (--, #, /* *\/).
 * Text after the last `;` waits for more input. Backslash escapes inside '…' follow MySQL (where they
 * are the default); in PostgreSQL a backslash there is a plain character, so it is read that way too.
 */
export class StatementSplitter {
  private buffer = '';

  constructor(private readonly dialect: 'postgres' | 'mysql') {}

  /** Adds a line of input; returns the statements it completes, without their final `;`. */
  push(line: string): string[] {
    this.buffer += this.buffer === '' ? line : `\n${line}`;
    const out: string[] = [];
    let start = 0;
    let i = 0;
    const s = this.buffer;
    while (i < s.length) {
      const c = s[i]!;
      if (c === "'" || c === '"' || c === '`') {
        i = this.skipQuoted(s, i, c);
      } else if (c === '-' && s[i + 1] === '-') {
        i = this.skipTo(s, i, '\n');
      } else if (c === '#' && this.dialect === 'mysql') {
        i = this.skipTo(s, i, '\n');
      } else if (c === '/' && s[i + 1] === '*') {
        const end = s.indexOf('*/', i + 2);
        i = end < 0 ? s.length + 1 : end + 2;
      } else if (c === '$' && this.dialect === 'postgres') {
        const tag = /^\$[A-Za-z_]*\$/.exec(s.slice(i));
        if (tag) {
          const end = s.indexOf(tag[0], i + tag[0].length);
          i = end < 0 ? s.length + 1 : end + tag[0].length;
        } else i += 1;
      } else if (c === ';') {
        const text = s.slice(start, i).trim();
        if (text !== '') out.push(text);
        start = i + 1;
        i += 1;
      } else {
        i += 1;
      }
    }
    // An unterminated quote or comment (i past the end): everything from `start` waits for more lines.
    this.buffer = s.slice(start).replace(/^\s+/, '');
    return out;
  }

  /** True when a statement has begun and not ended. */
  get pending(): boolean {
    return this.buffer.trim() !== '';
  }

  /** What is left (at end of input): a last statement without its `;`. */
  rest(): string | undefined {
    const text = this.buffer.trim();
    this.buffer = '';
    return text === '' ? undefined : text;
  }

  private skipQuoted(s: string, i: number, quote: string): number {
    let j = i + 1;
    while (j < s.length) {
      const c = s[j]!;
      if (c === '\\' && quote !== '`' && this.dialect === 'mysql') j += 2;
      else if (c === quote) {
        if (s[j + 1] === quote) j += 2; // '' or "" inside: an escaped quote
        else return j + 1;
      } else j += 1;
    }
    return s.length + 1;
  }

  private skipTo(s: string, i: number, end: string): number {
    const at = s.indexOf(end, i);
    return at < 0 ? s.length : at + 1;
  }
}
