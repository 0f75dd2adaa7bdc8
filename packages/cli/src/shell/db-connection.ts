import type { Auditor } from '@querytrail/core';

/** A statement's result as the shell prints it. */
export interface ShellResult {
  columns: string[];
  rows: unknown[][];
  /** Rows changed (INSERT, UPDATE, DELETE ...), when the driver says. */
  affected?: number;
  command?: string;
}

export interface ShellConnection {
  readonly dialect: 'postgres' | 'mysql';
  /** Where it is connected, for the banner: `user@host:port/db`, never the password. */
  readonly describe: string;
  query(sql: string): Promise<ShellResult>;
  close(): Promise<void>;
}

/** The driver is the application's choice: loaded only when a shell asks for it, with a clear error when absent. */
async function load<T>(name: string): Promise<T> {
  try {
    const m = (await import(name)) as { default?: T };
    return (m.default ?? m) as T;
  } catch {
    throw new Error(`querytrail shell needs the '${name}' package for this URL: npm install ${name}`);
  }
}

interface PgResultLike {
  command?: string;
  rowCount?: number | null;
  fields?: Array<{ name: string }>;
  rows?: unknown[][];
}
interface PgClientLike {
  connect(): Promise<void>;
  query(config: { text: string; rowMode: 'array'; queryMode: 'extended' }): Promise<PgResultLike | PgResultLike[]>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface MysqlConnectionLike {
  query(options: { sql: string; rowsAsArray: boolean }): Promise<[unknown, unknown]>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}

/** The environment variable a password can come from, so it is not on the command line (where `ps` shows it). */
export const PASSWORD_ENV = 'QUERYTRAIL_DB_PASSWORD';

/** A URL fit to print: its password, if any, replaced (even when the URL does not parse). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/.*@/, '//***@');
  }
}

/**
 * Opens `url` (postgres://, postgresql://, mysql://, mariadb://) through the real driver, instrumented
 * by `auditor` before its first statement: every statement the shell sends is captured and decided
 * there, as in an application.
 */
export async function openConnection(url: string, auditor: Auditor, onLost: (err: Error) => void): Promise<ShellConnection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url ${JSON.stringify(redactUrl(url))}: not a URL (postgres://user@host:5432/db, mysql://user@host:3306/db)`);
  }
  const password = process.env[PASSWORD_ENV];
  const describe = `${decodeURIComponent(parsed.username)}@${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:': {
      const pg = await load<{ Client: new (config: { connectionString: string; password?: string }) => PgClientLike }>('pg');
      const client = auditor.instrumentPg(new pg.Client({ connectionString: url, ...(password ? { password } : {}) }) as never) as unknown as PgClientLike;
      // A connection the server drops emits 'error': said, and the next statement fails, never a crash.
      client.on('error', onLost);
      await client.connect();
      return {
        dialect: 'postgres',
        describe,
        async query(sql) {
          // The extended protocol takes one statement per text: the server refuses more, so a text
          // is never more statements than the shell handed out (and the policy decided on).
          const result = await client.query({ text: sql, rowMode: 'array', queryMode: 'extended' });
          // A multi-statement text gives one result per statement: the shell shows the last.
          const last = Array.isArray(result) ? result[result.length - 1]! : result;
          const out: ShellResult = { columns: (last.fields ?? []).map((f) => f.name), rows: last.rows ?? [] };
          if (last.command) out.command = last.command;
          if (typeof last.rowCount === 'number' && (last.fields ?? []).length === 0) out.affected = last.rowCount;
          return out;
        },
        close: () => client.end(),
      };
    }
    case 'mysql:':
    case 'mariadb:': {
      const mysql = await load<{ createConnection(config: { uri: string; multipleStatements: false; password?: string }): Promise<MysqlConnectionLike> }>('mysql2/promise');
      // One statement per text, whatever the URL asks: the server then refuses a text of several.
      const single = new URL(url.replace(/^mariadb:/, 'mysql:'));
      single.searchParams.delete('multipleStatements');
      const conn = auditor.instrumentMysql2(await mysql.createConnection({ uri: single.toString(), multipleStatements: false, ...(password ? { password } : {}) })) as unknown as MysqlConnectionLike;
      conn.on('error', onLost);
      return {
        dialect: 'mysql',
        describe,
        async query(sql) {
          let [rows, fields] = await conn.query({ sql, rowsAsArray: true });
          // CALL returns its result sets and then a status: show the first result set.
          if (Array.isArray(fields) && Array.isArray(fields[0])) {
            rows = (rows as unknown[])[0];
            fields = fields[0];
          }
          if (Array.isArray(rows)) return { columns: ((fields ?? []) as Array<{ name: string }>).map((f) => f.name), rows: rows as unknown[][] };
          const header = rows as { affectedRows?: number };
          return { columns: [], rows: [], ...(typeof header.affectedRows === 'number' ? { affected: header.affectedRows } : {}) };
        },
        close: () => conn.end(),
      };
    }
    default:
      throw new Error(`--url: ${parsed.protocol.replace(/:$/, '')} is not a database this shell speaks (postgres, postgresql, mysql, mariadb)`);
  }
}
