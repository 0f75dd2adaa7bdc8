import { randomBytes } from 'node:crypto';
import mariadb from 'mariadb';

export { harness, waitFor } from '../mysql2/helpers.js';

export const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' } as const;

export function tableName(): string {
  return `qt_mdb_${randomBytes(5).toString('hex')}`;
}

/** Setup and checks through a connection nobody instruments. */
export async function admin<T = Record<string, unknown>[]>(sql: string, values?: unknown): Promise<T> {
  const c = await mariadb.createConnection(DB);
  try {
    return (await c.query(sql, values)) as T;
  } finally {
    await c.end();
  }
}
