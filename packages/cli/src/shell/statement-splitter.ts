import { splitSqlText } from '@querytrail/core';

/**
 * Cuts typed input into statements where the server would: with the lexer and splitter of
 * querytrail's own analysis (strings and E'' escapes, dollar quotes, nested comments, MySQL `--`
 * rules, BEGIN ATOMIC and BEGIN … END routine bodies). Input waits until it ends with a `;` that
 * ends a statement; then every statement in it is handed out, each to be sent on its own.
 */
export class StatementSplitter {
  private buffer = '';

  constructor(private readonly dialect: 'postgres' | 'mysql') {}

  /** Adds a line of input; returns the statements it completes. */
  push(line: string): string[] {
    this.buffer = this.buffer === '' ? line : `${this.buffer}\n${line}`;
    const cut = splitSqlText(this.buffer, { dialect: this.dialect });
    if (cut.complete) {
      this.buffer = '';
      return cut.statements;
    }
    // Only comments so far: nothing to wait for (and a backslash command may follow).
    if (!cut.error && cut.statements.length === 0) this.buffer = '';
    return [];
  }

  /** True when a statement has begun and not ended (a backslash line then belongs to the SQL). */
  get pending(): boolean {
    return this.buffer.trim() !== '';
  }

  /** What is left at the end of input: a statement without its `;`, or text that never closed. */
  rest(): string | undefined {
    const text = this.buffer.trim();
    this.buffer = '';
    return text === '' ? undefined : text;
  }
}

/** The statements of one `-c` text (a final `;` optional); an error when it cannot be cut (an unterminated string). */
export function statementsOf(text: string, dialect: 'postgres' | 'mysql'): string[] {
  const cut = splitSqlText(text, { dialect });
  if (cut.error) throw new Error(`-c ${JSON.stringify(text.slice(0, 60))}: ${cut.error}`);
  return cut.statements;
}
