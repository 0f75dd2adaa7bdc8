/**
 * Dialect-aware SQL lexer: the lexical guard's view of the text. It decides what is code and what is
 * string or comment exactly as the server would, so that nothing hides from the classifier inside
 * something the lexer wrongly took for a comment or string (and vice versa).
 */

export type TokenType = 'word' | 'qident' | 'string' | 'number' | 'param' | 'op' | 'semi';

export interface Token {
  readonly type: TokenType;
  readonly start: number;
  readonly end: number;
  /** word: as written; qident: unquoted name; string: decoded-ish content; op: the character(s). */
  readonly value: string;
  /** word: upper-cased value (keyword matching); otherwise ''. */
  readonly upper: string;
}

export interface LexOptions {
  mysql: boolean;
  /** MySQL: backslash escapes in '' and "" strings. */
  backslashEscapes: boolean;
  /** PostgreSQL: standard_conforming_strings; when off, backslash escapes in plain '' strings. */
  standardConformingStrings: boolean;
}

export interface LexResult {
  readonly tokens: Token[];
  readonly error?: string;
  /** MySQL/MariaDB executable comments seen (their content was lexed as code). */
  readonly executableComments: number;
  /** Ranges of executable-comment markers (`/*!50000`, `*\/`) to blank before parsing. */
  readonly markers: Array<[number, number]>;
}

const C_SPACE = 32;
const C_QUOTE = 39; // '
const C_DQUOTE = 34; // "
const C_BACKTICK = 96;
const C_BACKSLASH = 92;
const C_DOLLAR = 36;
const C_STAR = 42;
const C_SLASH = 47;
const C_DASH = 45;
const C_HASH = 35;
const C_SEMI = 59;
const C_DOT = 46;
const C_AT = 64;
const C_QMARK = 63;
const C_COLON = 58;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === C_DOLLAR;
}
function isSpace(c: number): boolean {
  return c === C_SPACE || (c >= 9 && c <= 13);
}

function word(value: string, start: number, end: number): Token {
  return { type: 'word', start, end, value, upper: value.toUpperCase() };
}
function tok(type: TokenType, start: number, end: number, value: string): Token {
  return { type, start, end, value, upper: '' };
}

/** Reads a quoted run starting at `i` (the opening quote). Returns [endExclusive, content] or -1. */
function readQuoted(s: string, i: number, quote: number, backslash: boolean): [number, string] | undefined {
  const n = s.length;
  let j = i + 1;
  let out = '';
  let segStart = j;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (backslash && c === C_BACKSLASH) {
      out += s.slice(segStart, j) + s.charAt(j + 1);
      j += 2;
      segStart = j;
      continue;
    }
    if (c === quote) {
      if (s.charCodeAt(j + 1) === quote) {
        out += s.slice(segStart, j + 1);
        j += 2;
        segStart = j;
        continue;
      }
      out += s.slice(segStart, j);
      return [j + 1, out];
    }
    j++;
  }
  return undefined;
}

/** PostgreSQL U&"..." identifiers: \XXXX and \+XXXXXX escapes (default escape character). */
function decodeUnicodeEscapes(v: string): string {
  return v.replace(/\\(\+[0-9a-fA-F]{6}|[0-9a-fA-F]{4}|\\)/g, (m, g: string) => {
    if (g === '\\') return '\\';
    const cp = Number.parseInt(g.startsWith('+') ? g.slice(1) : g, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

export function lex(s: string, o: LexOptions): LexResult {
  const tokens: Token[] = [];
  const markers: Array<[number, number]> = [];
  const n = s.length;
  let i = 0;
  let inExec = false; // inside a MySQL executable comment: content is code, `*/` closes it
  let executableComments = 0;
  const fail = (error: string): LexResult => ({ tokens, error, executableComments, markers });

  while (i < n) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const c1 = i + 1 < n ? s.charCodeAt(i + 1) : 0;

    // Comments.
    if (c === C_DASH && c1 === C_DASH) {
      // MySQL needs whitespace/control (or end) after `--`; otherwise `1--1` is arithmetic.
      const c2 = i + 2 < n ? s.charCodeAt(i + 2) : -1;
      if (!o.mysql || c2 === -1 || c2 <= C_SPACE) {
        const e = s.indexOf('\n', i);
        i = e < 0 ? n : e + 1;
        continue;
      }
    }
    if (o.mysql && c === C_HASH) {
      const e = s.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (inExec && c === C_STAR && c1 === C_SLASH) {
      markers.push([i, i + 2]);
      inExec = false;
      i += 2;
      continue;
    }
    if (c === C_SLASH && c1 === C_STAR) {
      if (o.mysql) {
        const c2 = s.charCodeAt(i + 2);
        const c3 = s.charCodeAt(i + 3);
        const isBang = c2 === 33; // /*!
        const isMBang = (c2 === 77 || c2 === 109) && c3 === 33; // /*M!
        if ((isBang || isMBang) && !inExec) {
          // Executable comment: skip the marker and an optional version number; the rest is code.
          let j = i + (isBang ? 3 : 4);
          while (j < n && isDigit(s.charCodeAt(j))) j++;
          markers.push([i, j]);
          executableComments++;
          inExec = true;
          i = j;
          continue;
        }
        const e = s.indexOf('*/', i + 2);
        if (e < 0) return fail('unterminated comment');
        i = e + 2;
        continue;
      }
      // PostgreSQL block comments nest.
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        const d = s.charCodeAt(j);
        if (d === C_SLASH && s.charCodeAt(j + 1) === C_STAR) {
          depth++;
          j += 2;
        } else if (d === C_STAR && s.charCodeAt(j + 1) === C_SLASH) {
          depth--;
          j += 2;
        } else j++;
      }
      if (depth > 0) return fail('unterminated comment');
      i = j;
      continue;
    }

    if (c === C_SEMI) {
      tokens.push(tok('semi', i, i + 1, ';'));
      i++;
      continue;
    }

    // Strings and quoted identifiers.
    if (c === C_QUOTE) {
      const bs = o.mysql ? o.backslashEscapes : !o.standardConformingStrings;
      const r = readQuoted(s, i, C_QUOTE, bs);
      if (!r) return fail('unterminated string');
      tokens.push(tok('string', i, r[0], r[1]));
      i = r[0];
      continue;
    }
    if (c === C_DQUOTE) {
      if (o.mysql) {
        // Without ANSI_QUOTES "..." is a string in MySQL; either way its content is not code.
        const r = readQuoted(s, i, C_DQUOTE, o.backslashEscapes);
        if (!r) return fail('unterminated string');
        tokens.push(tok('string', i, r[0], r[1]));
        i = r[0];
        continue;
      }
      const r = readQuoted(s, i, C_DQUOTE, false);
      if (!r) return fail('unterminated quoted identifier');
      tokens.push(tok('qident', i, r[0], r[1]));
      i = r[0];
      continue;
    }
    if (c === C_BACKTICK && o.mysql) {
      const r = readQuoted(s, i, C_BACKTICK, false);
      if (!r) return fail('unterminated quoted identifier');
      tokens.push(tok('qident', i, r[0], r[1]));
      i = r[0];
      continue;
    }

    // Prefixed strings: E'..' (PG backslash escapes), B'..', X'..', N'..', U&'..', U&"..".
    if (isIdentStart(c)) {
      if (c1 === C_QUOTE) {
        const u = c | 0x20;
        if (u === 101 /* e */ && !o.mysql) {
          const r = readQuoted(s, i + 1, C_QUOTE, true);
          if (!r) return fail('unterminated string');
          tokens.push(tok('string', i, r[0], r[1]));
          i = r[0];
          continue;
        }
        if (u === 98 || u === 120 || u === 110) {
          const bs = u === 110 && (o.mysql ? o.backslashEscapes : !o.standardConformingStrings);
          const r = readQuoted(s, i + 1, C_QUOTE, bs);
          if (!r) return fail('unterminated string');
          tokens.push(tok('string', i, r[0], r[1]));
          i = r[0];
          continue;
        }
      }
      if (!o.mysql && (c | 0x20) === 117 && c1 === 38 /* & */) {
        const q = s.charCodeAt(i + 2);
        if (q === C_QUOTE || q === C_DQUOTE) {
          const r = readQuoted(s, i + 2, q, false);
          if (!r) return fail('unterminated string');
          if (q === C_QUOTE) tokens.push(tok('string', i, r[0], decodeUnicodeEscapes(r[1])));
          else tokens.push(tok('qident', i, r[0], decodeUnicodeEscapes(r[1])));
          i = r[0];
          continue;
        }
      }
      let j = i + 1;
      while (j < n && isIdentPart(s.charCodeAt(j))) j++;
      tokens.push(word(s.slice(i, j), i, j));
      i = j;
      continue;
    }

    if (isDigit(c) || (c === C_DOT && isDigit(c1))) {
      let j = i + 1;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (isDigit(d) || d === C_DOT || d === 95 || (d >= 97 && d <= 122) || (d >= 65 && d <= 90)) j++;
        else if ((d === 43 || d === C_DASH) && (s.charCodeAt(j - 1) | 0x20) === 101 && !s.startsWith('0x', i)) j++;
        else break;
      }
      // MySQL allows identifiers starting with digits (1abc): treat a digit-led run with letters as a word.
      const text = s.slice(i, j);
      if (o.mysql && /^[0-9]+[a-df-z_$]/i.test(text) && !/^0x[0-9a-f]+$/i.test(text) && !/^0b[01]+$/i.test(text)) {
        tokens.push(word(text, i, j));
      } else tokens.push(tok('number', i, j, text));
      i = j;
      continue;
    }

    if (c === C_DOLLAR && !o.mysql) {
      if (isDigit(c1)) {
        let j = i + 1;
        while (j < n && isDigit(s.charCodeAt(j))) j++;
        tokens.push(tok('param', i, j, s.slice(i, j)));
        i = j;
        continue;
      }
      // Dollar quoting: $tag$ ... $tag$.
      let j = i + 1;
      if (j < n && isIdentStart(s.charCodeAt(j))) {
        j++;
        while (j < n && (isIdentStart(s.charCodeAt(j)) || isDigit(s.charCodeAt(j)))) j++;
      }
      if (s.charCodeAt(j) === C_DOLLAR) {
        const tag = s.slice(i, j + 1);
        const e = s.indexOf(tag, j + 1);
        if (e < 0) return fail('unterminated dollar-quoted string');
        tokens.push(tok('string', i, e + tag.length, s.slice(j + 1, e)));
        i = e + tag.length;
        continue;
      }
    }

    if (c === C_QMARK) {
      tokens.push(tok('param', i, i + 1, '?'));
      i++;
      continue;
    }
    if (c === C_COLON && isIdentStart(c1) && s.charCodeAt(i - 1) !== C_COLON) {
      // :name placeholders (ORM text); `::type` casts are excluded above.
      let j = i + 2;
      while (j < n && isIdentPart(s.charCodeAt(j))) j++;
      tokens.push(tok('param', i, j, s.slice(i, j)));
      i = j;
      continue;
    }
    if (c === C_AT && o.mysql) {
      // @user_var, @@system_var, @`quoted`: variables are one word-like token.
      let j = i + 1;
      if (s.charCodeAt(j) === C_AT) j++;
      const q = s.charCodeAt(j);
      if (q === C_BACKTICK || q === C_QUOTE || q === C_DQUOTE) {
        const r = readQuoted(s, j, q, false);
        if (!r) return fail('unterminated quoted identifier');
        j = r[0];
      } else {
        while (j < n && (isIdentPart(s.charCodeAt(j)) || s.charCodeAt(j) === C_DOT)) j++;
      }
      tokens.push(word(s.slice(i, j), i, j));
      i = j;
      continue;
    }

    tokens.push(tok('op', i, i + 1, s.charAt(i)));
    i++;
  }
  if (inExec) return fail('unterminated executable comment');
  return { tokens, executableComments, markers };
}
