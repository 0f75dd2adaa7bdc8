import { randomBytes } from 'node:crypto';
import type { PolicyInput } from '@querytrail/core';
import knexFactory, { type Knex } from 'knex';
import mysql from 'mysql2/promise';
import pg from 'pg';

/** The two servers of the test machine, each seen through knex and through an uninstrumented admin connection. */
export interface TestDb {
  name: 'PostgreSQL' | 'MariaDB';
  client: 'pg' | 'mysql2';
  /** knex config for `user` (default: the superuser) with a pool of `max` connections. */
  knexConfig(max: number, user?: { name: string; password: string }): Knex.Config;
  /** Runs SQL on a fresh uninstrumented connection as the superuser. */
  admin(sql: string, values?: unknown[]): Promise<Array<Record<string, unknown>>>;
  /** The backend pid / thread id of a raw connection knex holds. */
  connectionId(conn: object): string;
}

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

export const pgDb: TestDb = {
  name: 'PostgreSQL',
  client: 'pg',
  knexConfig: (max, user) => ({
    client: 'pg',
    connection: user ? { ...PG, user: user.name, password: user.password } : PG,
    pool: { min: 0, max },
  }),
  async admin(sql, values) {
    const c = new pg.Client(PG);
    await c.connect();
    try {
      return (await c.query(sql, values)).rows;
    } finally {
      await c.end();
    }
  },
  connectionId: (conn) => String((conn as { processID: number }).processID),
};

export const mariaDb: TestDb = {
  name: 'MariaDB',
  client: 'mysql2',
  knexConfig: (max, user) => ({
    client: 'mysql2',
    connection: user ? { ...MY, user: user.name, password: user.password } : MY,
    pool: { min: 0, max },
  }),
  async admin(sql, values) {
    const c = await mysql.createConnection(MY);
    try {
      const [rows] = await c.query(sql, values);
      return rows as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  },
  connectionId: (conn) => String((conn as { threadId: number }).threadId),
};

export const DBS: readonly TestDb[] = [pgDb, mariaDb];

export function makeKnex(config: Knex.Config): Knex {
  return knexFactory(config);
}

/** A table name no other test file uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** The policy of every test: destructive statements blocked, inside a window that is never open. */
export const closedWindowPolicy: PolicyInput = {
  version: 1,
  mode: 'enforce',
  windows: [{ id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-01T01:00:00Z' }],
};
