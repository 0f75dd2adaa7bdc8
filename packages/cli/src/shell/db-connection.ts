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
  query(config: { text: string; rowMode: 'array' }): Promise<PgResultLike | PgResultLike[]>;
  end(): Promise<void>;
}
interface MysqlConnectionLike {
  query(options: { sql: string; rowsAsArray: boolean }): Promise<[unknown, Array<{ name: string }> | undefined]>;
  end(): Promise<void>;
}

/**
 * Opens `url` (postgres://, postgresql://, mysql://, mariadb://) through the real driver, instrumented
 * by `auditor` before its first statement: every statement the shell sends is captured and decided
 * there, as in an application.
 */
export async function openConnection(url: string, auditor: Auditor): Promise<ShellConnection> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--url ${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))}: not a URL (postgres://user@host:5432/db, mysql://user@host:3306/db)`);
  }
  const describe = `${decodeURIComponent(parsed.username)}@${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:': {
      const pg = await load<{ Client: new (config: { connectionString: string }) => PgClientLike }>('pg');
      const client = auditor.instrumentPg(new pg.Client({ connectionString: url }) as never) as unknown as PgClientLike;
      await client.connect();
      return {
        dialect: 'postgres',
        describe,
        async query(sql) {
          const result = await client.query({ text: sql, rowMode: 'array' });
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
      const mysql = await load<{ createConnection(config: { uri: string }): Promise<MysqlConnectionLike> }>('mysql2/promise');
      const conn = auditor.instrumentMysql2(await mysql.createConnection({ uri: url.replace(/^mariadb:/, 'mysql:') })) as unknown as MysqlConnectionLike;
      return {
        dialect: 'mysql',
        describe,
        async query(sql) {
          const [rows, fields] = await conn.query({ sql, rowsAsArray: true });
          if (Array.isArray(rows)) return { columns: (fields ?? []).map((f) => f.name), rows: rows as unknown[][] };
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
