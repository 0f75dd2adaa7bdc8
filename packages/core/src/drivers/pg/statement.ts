import type { StatementStart } from '../../capture/types.js';
import type { DbInfoCache } from './db-info.js';
import type { PgConnectionLike } from './types.js';

/**
 * Named prepared statements of one connection: pg sends the text only the first time a name is used
 * ({ name, text, values }); later calls may carry { name, values } alone. The event still gets the text.
 */
export class PreparedStatements {
  private readonly byName = new Map<string, string>();

  constructor(private readonly connection: () => PgConnectionLike | undefined) {}

  /** The text to record for `name`; remembers it when the call carries it. */
  resolve(name: string, text: unknown): string | undefined {
    if (typeof text === 'string' && text.length > 0) {
      this.byName.set(name, text);
      return text;
    }
    return this.connection()?.parsedStatements?.[name] ?? this.byName.get(name);
  }
}

/**
 * Builds the StatementStart of one call from what the application passed (text or config object).
 * `connection`: the pg Client the statement goes to (identity only).
 */
export function describeStatement(
  connection: object,
  db: DbInfoCache,
  prepared: PreparedStatements,
  text: unknown,
  values: unknown,
  name: unknown,
): StatementStart {
  const start: StatementStart = { text: undefined, db: db.get(), connection };
  if (typeof name === 'string' && name.length > 0) {
    start.preparedName = name;
    start.text = prepared.resolve(name, text);
  } else if (typeof text === 'string') {
    start.text = text;
  }
  if (Array.isArray(values)) start.params = values;
  return start;
}
