/** Creates and drops the benchmark tables (prefix qt_bench_) and reads the server versions, with the raw drivers. */
import { createRequire } from 'node:module';
import { AUTHORS_TABLE, DB_CONFIG, type Db, EVENTS_TABLE, ITEMS_TABLE, POSTS_TABLE, W3_AUTHORS } from './shared.js';

const require = createRequire(import.meta.url);
const ROWS = 10_000;

interface Exec {
  run(sql: string, params?: unknown[]): Promise<unknown[]>;
  end(): Promise<void>;
}

async function connect(db: Db): Promise<Exec> {
  if (db === 'postgres') {
    const pg = require('pg') as typeof import('pg');
    const client = new pg.Client(DB_CONFIG.postgres);
    await client.connect();
    return { run: async (sql, params) => (await client.query(sql, params)).rows, end: () => client.end() };
  }
  const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
  const conn = await mysql.createConnection(DB_CONFIG.mysql);
  return {
    run: async (sql, params) => (await conn.query(sql, params))[0] as unknown[],
    end: () => conn.end(),
  };
}

export async function serverVersion(db: Db): Promise<string> {
  const c = await connect(db);
  try {
    const rows = (await c.run(db === 'postgres' ? 'SELECT version() AS v' : 'SELECT version() AS v')) as { v: string }[];
    return rows[0]?.v ?? 'unknown';
  } finally {
    await c.end();
  }
}

export async function createTables(db: Db): Promise<void> {
  const c = await connect(db);
  try {
    await c.run(`DROP TABLE IF EXISTS ${ITEMS_TABLE}`);
    await c.run(`DROP TABLE IF EXISTS ${EVENTS_TABLE}`);
    if (db === 'postgres') {
      await c.run(
        `CREATE TABLE ${ITEMS_TABLE} (id integer PRIMARY KEY, name text NOT NULL, email text NOT NULL, balance numeric(12,2) NOT NULL, created_at timestamptz NOT NULL)`,
      );
      await c.run(
        `INSERT INTO ${ITEMS_TABLE} SELECT g, 'item ' || g, 'user' || g || '@example.com', (g * 13 % 100000) / 100.0, now() - g * interval '1 minute' FROM generate_series(1, ${ROWS}) AS g`,
      );
      await c.run(
        `CREATE TABLE ${EVENTS_TABLE} (id bigserial PRIMARY KEY, account_id integer NOT NULL, kind text NOT NULL, amount integer NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
      );
      await c.run(`ANALYZE ${ITEMS_TABLE}`);
      // W3 (ORM flow): authors and their posts, mapped by bench/prisma/schema.prisma and bench/orm.ts.
      await c.run(`DROP TABLE IF EXISTS ${POSTS_TABLE}`);
      await c.run(`DROP TABLE IF EXISTS ${AUTHORS_TABLE}`);
      await c.run(`CREATE TABLE ${AUTHORS_TABLE} (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL)`);
      await c.run(`CREATE TABLE ${POSTS_TABLE} (id serial PRIMARY KEY, title text NOT NULL, author_id integer NOT NULL REFERENCES ${AUTHORS_TABLE}(id))`);
      await c.run(`CREATE INDEX ${POSTS_TABLE}_author ON ${POSTS_TABLE} (author_id)`);
      await c.run(`INSERT INTO ${AUTHORS_TABLE} (id, email, name) SELECT g, 'author' || g || '@example.com', 'Author ' || g FROM generate_series(1, ${W3_AUTHORS}) AS g`);
      await c.run(`INSERT INTO ${POSTS_TABLE} (title, author_id) SELECT 'post ' || g, (g % ${W3_AUTHORS}) + 1 FROM generate_series(1, ${W3_AUTHORS * 5}) AS g`);
      await c.run(`ANALYZE ${AUTHORS_TABLE}`);
      await c.run(`ANALYZE ${POSTS_TABLE}`);
    } else {
      await c.run(
        `CREATE TABLE ${ITEMS_TABLE} (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, email VARCHAR(128) NOT NULL, balance DECIMAL(12,2) NOT NULL, created_at DATETIME(6) NOT NULL) ENGINE=InnoDB`,
      );
      for (let start = 1; start <= ROWS; start += 1000) {
        const rows: unknown[][] = [];
        for (let g = start; g < start + 1000 && g <= ROWS; g++) {
          rows.push([g, `item ${g}`, `user${g}@example.com`, ((g * 13) % 100_000) / 100, new Date(Date.now() - g * 60_000)]);
        }
        await c.run(`INSERT INTO ${ITEMS_TABLE} (id, name, email, balance, created_at) VALUES ?`, [rows]);
      }
      await c.run(
        `CREATE TABLE ${EVENTS_TABLE} (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id INT NOT NULL, kind VARCHAR(32) NOT NULL, amount INT NOT NULL, created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB`,
      );
      await c.run(`ANALYZE TABLE ${ITEMS_TABLE}`);
    }
  } finally {
    await c.end();
  }
}

export async function dropTables(db: Db): Promise<void> {
  const c = await connect(db);
  try {
    await c.run(`DROP TABLE IF EXISTS ${ITEMS_TABLE}`);
    await c.run(`DROP TABLE IF EXISTS ${EVENTS_TABLE}`);
    if (db === 'postgres') {
      await c.run(`DROP TABLE IF EXISTS ${POSTS_TABLE}`);
      await c.run(`DROP TABLE IF EXISTS ${AUTHORS_TABLE}`);
    }
  } finally {
    await c.end();
  }
}

export async function rowCount(db: Db, table: string): Promise<number> {
  const c = await connect(db);
  try {
    const rows = (await c.run(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number | string }[];
    return Number(rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}
