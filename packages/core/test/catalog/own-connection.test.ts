/**
 * The table catalog is read on short-lived connections querytrail opens itself, with the app's
 * settings, never on an application connection (docs/analysis.md, "Where the auditor reads the catalog").
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { after, describe, test } from 'node:test';
import { type Auditor, createAuditor, loadAnalyzers, type QuerytrailEvent } from '@querytrail/core';
import mariadb from 'mariadb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { validatingListener } from '../support/valid-events.js';

await loadAnalyzers();

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

// Every warning of this process, from its start: pg's deprecation notice is emitted once per process.
const warnings: Error[] = [];
process.on('warning', (w) => warnings.push(w));
const deprecations = (): string[] => warnings.filter((w) => w.name === 'DeprecationWarning').map((w) => w.message);
const catalogWarnings = (): string[] =>
  warnings.filter((w) => (w as Error & { code?: string }).code === 'QUERYTRAIL_CATALOG').map((w) => w.message);

interface Recorded {
  auditor: Auditor;
  events: QuerytrailEvent[];
  /** db.query events of querytrail's own catalog reads. */
  own(): QuerytrailEvent[];
  /** Successful catalog reads so far. */
  reads(): number;
  /** connection_id of every application connection seen (db.connect, and the app's statements). */
  appConnectionIds(): Set<string>;
  /** The columns a recorded statement (found by a marker in its text) read from `table`. */
  columnsRead(marker: string, table: string): string[] | undefined;
}

function recorded(name: string): Recorded {
  const events: QuerytrailEvent[] = [];
  const auditor = createAuditor({ service: { name }, journal: false, onEvent: validatingListener((e) => events.push(e)) });
  const isOwn = (e: QuerytrailEvent) => e.actor?.id === 'querytrail';
  const own = () => events.filter((e) => e.type === 'db.query' && isOwn(e));
  return {
    auditor,
    events,
    own,
    reads: () => own().filter((e) => e.result?.outcome === 'success').length,
    appConnectionIds: () =>
      new Set(
        events
          .filter((e) => (e.type === 'db.connect' || e.type === 'db.query') && !isOwn(e))
          .map((e) => e.db?.connection_id)
          .filter((id): id is string => id !== undefined),
      ),
    columnsRead(marker, table) {
      const found = events.filter((e) => e.type === 'db.query' && e.statement?.text?.includes(marker));
      assert.equal(found.length, 1, `one db.query for ${marker}`);
      return found[0]!.objects?.find((o) => o.name === table)?.columns;
    },
  };
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every catalog read ran on a connection of its own: none of the app's connection ids. */
function assertOwnConnections(r: Recorded): Set<string> {
  const own = new Set(r.own().map((e) => e.db?.connection_id ?? 'none'));
  assert.ok(own.size > 0, 'at least one catalog read');
  const app = r.appConnectionIds();
  assert.ok(app.size > 0, 'app connections were seen');
  for (const id of own) assert.ok(!app.has(id), `catalog read on app connection ${id}`);
  for (const e of r.own()) assert.deepEqual(e.actor, { type: 'system', id: 'querytrail' });
  return own;
}

const unique = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

async function pgAdmin(sql: string): Promise<Array<Record<string, unknown>>> {
  const c = new pg.Client(PG);
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

async function myAdmin(sql: string): Promise<unknown> {
  const c = await mysql.createConnection(MY);
  try {
    return (await c.query(sql))[0];
  } finally {
    await c.end();
  }
}

describe('PostgreSQL', () => {
  test('a pg Pool: the first queries queue behind nothing, and the catalog is read on a short-lived connection outside the pool', async () => {
    const r = recorded('own-pg-pool');
    const pool = r.auditor.instrumentPg(new pg.Pool({ ...PG, max: 4 }));
    try {
      // With the catalog read on the first app client, pg warned (and pg@9 would fail) here.
      await Promise.all([1, 2, 3].map((i) => pool.query(`SELECT ${i} AS n /* first-${i} */`)));
      await until(() => r.reads() > 0, 'the catalog read');
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      assert.deepEqual(deprecations(), []);
      const own = assertOwnConnections(r);
      // Short-lived: its backend is gone, while the pool's clients stay connected and idle.
      const pids = [...own].map(Number).join(',');
      await until(async () => (await pgAdmin(`SELECT pid FROM pg_stat_activity WHERE pid IN (${pids})`)).length === 0, 'the catalog connection to close');
      assert.equal(pool.totalCount, r.events.filter((e) => e.type === 'db.connect').length, 'the pool holds only app clients');
      assert.ok(pool.idleCount > 0);
    } finally {
      await pool.end();
      await r.auditor.close();
    }
  });

  test('a table created inside an app transaction resolves in SELECT * after COMMIT; no catalog read ran on that connection', async () => {
    const r = recorded('own-pg-tx');
    const table = unique('qt_own_tx');
    const client = r.auditor.instrumentPg(new pg.Client(PG));
    await client.connect();
    const appPid = String((client as unknown as { processID: number }).processID);
    try {
      await until(() => r.reads() > 0, 'the first catalog read');
      await client.query('BEGIN');
      const before = r.reads();
      await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, secret text)`);
      // The read the DDL sets off runs elsewhere: it cannot see the uncommitted table.
      await until(() => r.reads() > before, 'the read after CREATE TABLE');
      await client.query(`SELECT * FROM ${table} /* in-tx */`);
      assert.deepEqual(r.columnsRead('/* in-tx */', table), []);
      const beforeCommit = r.reads();
      await client.query('COMMIT');
      await until(() => r.reads() > beforeCommit, 'the read after COMMIT');
      await client.query(`SELECT * FROM ${table} /* after-commit */`);
      assert.deepEqual(r.columnsRead('/* after-commit */', table), ['id', 'secret']);
      const own = assertOwnConnections(r);
      assert.ok(!own.has(appPid));
      assert.ok(own.size >= 3, `each read opened its own connection (${own.size})`);
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
      await r.auditor.close();
    }
  });

  test('a catalog connection that cannot be opened: app queries work, onError reports it, the next new connection retries', async () => {
    const role = unique('qt_own_role');
    const table = unique('qt_own_lim');
    // The app's one connection takes the role's only slot: querytrail's own connect is refused.
    await pgAdmin(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 1`);
    await pgAdmin(`CREATE TABLE ${table} (id int PRIMARY KEY, card text); INSERT INTO ${table} VALUES (1, 'x'); GRANT SELECT ON ${table} TO ${role}`);
    const r = recorded('own-pg-fail');
    const pool = r.auditor.instrumentPg(new pg.Pool({ ...PG, user: role, max: 1 }));
    const warned = catalogWarnings().length;
    try {
      assert.equal((await pool.query(`SELECT * FROM ${table} /* limited-1 */`)).rows.length, 1);
      await until(() => catalogWarnings().length > warned, 'the catalog error');
      assert.match(catalogWarnings().at(-1)!, /too many connections/);
      assert.equal((await pool.query(`SELECT * FROM ${table} /* limited-2 */`)).rows.length, 1);
      assert.deepEqual(r.own(), [], 'no catalog read anywhere, least of all on the app connection');
      assert.deepEqual(r.columnsRead('/* limited-2 */', table), []);

      await pgAdmin(`ALTER ROLE ${role} CONNECTION LIMIT 2`);
      const c = await pool.connect();
      c.release(true); // the pool drops it: the next query opens a new app connection
      await pool.query('SELECT 1 /* new-connection */');
      await until(() => r.reads() > 0, 'the catalog read retried at the new connection');
      await pool.query(`SELECT * FROM ${table} /* limited-3 */`);
      assert.deepEqual(r.columnsRead('/* limited-3 */', table), ['id', 'card']);
      assertOwnConnections(r);
    } finally {
      await pool.end();
      await r.auditor.close();
      await pgAdmin(`DROP TABLE IF EXISTS ${table}`);
      await pgAdmin(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`);
    }
  });
});

/** The same checks through both MariaDB drivers. */
interface MyDriver {
  name: string;
  pool(r: Recorded, options: Record<string, unknown>): MyPool;
}

interface MyPool {
  query(sql: string): Promise<unknown>;
  /** Runs `statements` in a transaction on one checked-out connection; returns its thread id. */
  transaction(statements: string[]): Promise<string>;
  end(): Promise<void>;
}

const mysql2Driver: MyDriver = {
  name: 'mysql2',
  pool(r, options) {
    const pool = r.auditor.instrumentMysql2(mysql.createPool({ ...MY, ...options }));
    return {
      query: async (sql) => (await pool.query(sql))[0],
      async transaction(statements) {
        const c = await pool.getConnection();
        try {
          await c.beginTransaction();
          for (const s of statements) await c.query(s);
          await c.commit();
          return String(c.connection.threadId);
        } finally {
          c.release();
        }
      },
      end: () => pool.end(),
    };
  },
};

const mariadbDriver: MyDriver = {
  name: 'mariadb',
  pool(r, options) {
    const pool = r.auditor.instrumentMariadb(mariadb.createPool({ ...MY, ...options }));
    return {
      query: (sql) => pool.query(sql),
      async transaction(statements) {
        const c = await pool.getConnection();
        try {
          await c.beginTransaction();
          for (const s of statements) await c.query(s);
          await c.commit();
          return String(c.threadId);
        } finally {
          await c.release();
        }
      },
      end: () => pool.end(),
    };
  },
};

for (const driver of [mysql2Driver, mariadbDriver]) {
  describe(`MariaDB through ${driver.name}`, () => {
    test('the catalog is read on a short-lived connection of its own (app rows as arrays or not); a table created in a transaction resolves after COMMIT', async () => {
      const r = recorded(`own-${driver.name}`);
      const table = unique('qt_own_my');
      // The copied settings include the app's row format: the catalog read asks for rows as objects.
      const pool = driver.pool(r, { connectionLimit: 2, rowsAsArray: true });
      try {
        await pool.query('SELECT 1 /* first */');
        await until(() => r.reads() > 0, 'the first catalog read');
        const before = r.reads();
        const appThread = await pool.transaction([`CREATE TABLE ${table} (id INT PRIMARY KEY, secret VARCHAR(20))`, `SELECT 1 /* in-tx */`]);
        await until(() => r.reads() > before, 'the read after CREATE TABLE');
        await pool.query(`SELECT * FROM ${table} /* after-commit */`);
        assert.deepEqual(r.columnsRead('/* after-commit */', table), ['id', 'secret']);
        const own = assertOwnConnections(r);
        assert.ok(!own.has(appThread));
        const ids = [...own].join(',');
        await until(
          async () => ((await myAdmin(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (${ids})`)) as unknown[]).length === 0,
          'the catalog connections to close',
        );
      } finally {
        await myAdmin(`DROP TABLE IF EXISTS ${table}`);
        await pool.end();
        await r.auditor.close();
      }
    });

    test('a catalog connection that cannot be opened: app queries work, onError reports it, the next refresh trigger retries', async () => {
      const user = unique('qt_own_user');
      const table = unique('qt_own_mylim');
      await myAdmin(`CREATE USER '${user}'@'%' WITH MAX_USER_CONNECTIONS 1`);
      await myAdmin(`CREATE TABLE ${table} (id INT PRIMARY KEY, card VARCHAR(20))`);
      await myAdmin(`GRANT SELECT, CREATE TEMPORARY TABLES ON test.* TO '${user}'@'%'`);
      const r = recorded(`own-${driver.name}-fail`);
      const pool = driver.pool(r, { user, password: '', connectionLimit: 1 });
      const warned = catalogWarnings().length;
      try {
        await pool.query(`SELECT * FROM ${table} /* limited-1 */`);
        await until(() => catalogWarnings().length > warned, 'the catalog error');
        assert.match(catalogWarnings().at(-1)!, /max_user_connections/);
        await pool.query(`SELECT * FROM ${table} /* limited-2 */`);
        assert.deepEqual(r.own(), [], 'no catalog read anywhere, least of all on the app connection');
        assert.deepEqual(r.columnsRead('/* limited-2 */', table), []);

        await myAdmin(`ALTER USER '${user}'@'%' WITH MAX_USER_CONNECTIONS 2`);
        await pool.query(`CREATE TEMPORARY TABLE ${table}_tmp (a INT)`); // DDL: the next occasion to read
        await until(() => r.reads() > 0, 'the catalog read retried after DDL');
        await pool.query(`SELECT * FROM ${table} /* limited-3 */`);
        assert.deepEqual(r.columnsRead('/* limited-3 */', table), ['id', 'card']);
        assertOwnConnections(r);
      } finally {
        await pool.end();
        await r.auditor.close();
        await myAdmin(`DROP TABLE IF EXISTS ${table}`);
        await myAdmin(`DROP USER IF EXISTS '${user}'@'%'`);
      }
    });
  });
}

describe('settings that cannot be reproduced', () => {
  const r = recorded('own-stream');
  after(() => r.auditor.close());

  test('a mysql2 connection on a stream of its own: no catalog read at all, an error through onError, the app unharmed', async () => {
    const warned = catalogWarnings().length;
    const conn = await mysql.createConnection({ ...MY, stream: netConnect(MY.port, MY.host) });
    r.auditor.instrumentMysql2(conn);
    try {
      await until(() => catalogWarnings().length > warned, 'the catalog error');
      assert.match(catalogWarnings().at(-1)!, /stream of its own/);
      const [rows] = await conn.query('SELECT 1 AS one /* custom-stream */');
      assert.deepEqual(rows, [{ one: 1 }]);
      assert.deepEqual(r.own(), []);
    } finally {
      await conn.end();
    }
  });
});
