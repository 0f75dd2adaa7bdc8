import { lex } from './lexer.js';
import { splitStatements } from './split.js';
import type { Dialect } from './types.js';

export interface SplitTextOptions {
  dialect: Dialect;
  /** MySQL: backslash escapes in strings (off under NO_BACKSLASH_ESCAPES). Default on. */
  backslashEscapes?: boolean;
  /** PostgreSQL: standard_conforming_strings. Default on (the server default since 9.1). */
  standardConformingStrings?: boolean;
}

export interface SplitText {
  /** Each statement's text, as cut by the lexical guard: where the server would cut it. */
  statements: string[];
  /**
   * The text ends with a `;` that ends a statement: not inside a string, identifier, comment,
   * dollar-quoted body or routine body (BEGIN ATOMIC … END, MySQL BEGIN … END). Typed input waits
   * for more lines until it is.
   */
  complete: boolean;
  /** Why the text cannot be cut yet (an unterminated string or comment), if it cannot. */
  error?: string;
}

/**
 * Cuts SQL text into statements with the same lexer and splitter the analysis uses, so a tool that
 * sends statements one by one (the `querytrail shell`) cuts exactly where the classifier does.
 */
export function splitSqlText(text: string, options: SplitTextOptions): SplitText {
  const mysql = options.dialect === 'mysql';
  const lexed = lex(text, { mysql, backslashEscapes: options.backslashEscapes ?? true, standardConformingStrings: options.standardConformingStrings ?? true });
  if (lexed.error) return { statements: [], complete: false, error: lexed.error };
  const pieces = splitStatements(lexed.tokens, mysql);
  const last = lexed.tokens[lexed.tokens.length - 1];
  const lastPiece = pieces[pieces.length - 1];
  const complete = last?.type === 'semi' && (lastPiece === undefined || lastPiece.end <= last.start);
  return { statements: pieces.map((p) => text.slice(p.start, p.end)), complete };
}
