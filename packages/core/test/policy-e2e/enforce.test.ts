import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAuditor, loadAnalyzers, type PolicyInput, QueryBlockedError, type QuerytrailEvent } from '@querytrail/core';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { validatingListener } from '../support/valid-events.js';

await loadAnalyzers();

/**
 * Policy through the real drivers on both databases: a block happens before anything is sent, is
 * recorded as db.query.blocked, and leaves the pool healthy; windows, approvals, break-glass, monitor
 * mode, sensitive columns, bulk reads and unknown statements behave as docs/policy.md says.
 */
interface Db {
  name: string;
  open(auditorOptions: Parameters<typeof createAuditor>[0]): Promise<{ run(sql: string, params?: unknown[]): Promise<unknown>; close(): Promise<void>; healthy(): Promise<boolean> }>;
  admin(sql: string): Promise<Array<Record<string, unknown>>>;
}

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const MY = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

const pgDb: Db = {
  name: 'PostgreSQL',
  async open(options) {
    const auditor = createAuditor(options);
    const pool = auditor.instrumentPg(new pg.Pool({ ...PG, max: 2 }));
    return {
      run: (sql, params) => pool.query(sql, params),
      healthy: async () => (await pool.query('SELECT 1 AS ok')).rows.length === 1 && pool.totalCount <= 2 && pool.waitingCount === 0,
      close: async () => {
        await pool.end();
        await auditor.close();
      },
    };
  },
  async admin(sql) {
    const c = new pg.Client(PG);
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  },
};

const myDb: Db = {
  name: 'MariaDB',
  async open(options) {
    const auditor = createAuditor(options);
    const pool = auditor.instrumentMysql2(mysql.createPool({ ...MY, connectionLimit: 2 }));
    return {
      run: (sql, params) => pool.query(sql, params),
      healthy: async () => {
        const [rows] = await pool.query('SELECT 1 AS ok');
        return (rows as unknown[]).length === 1;
      },
      close: async () => {
        await pool.end();
        await auditor.close();
      },
    };
  },
  async admin(sql) {
    const c = await mysql.createConnection(MY);
    try {
      const [rows] = await c.query(sql);
      return rows as Array<Record<string, unknown>>;
    } finally {
      await c.end();
    }
  },
};

const alwaysClosed = { id: 'never', from: '2000-01-01T00:00:00Z', to: '2000-01-01T01:00:00Z' };
const openNow = { id: 'now', from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 3600_000).toISOString() };

for (const db of [pgDb, myDb]) {
  describe(`policy on ${db.name}`, () => {
    const table = `qt_pol_${randomBytes(5).toString('hex')}`;
    before(async () => {
      await db.admin(`CREATE TABLE ${table} (id int PRIMARY KEY, email varchar(64), ssn varchar(16), note varchar(64))`);
      await db.admin(`INSERT INTO ${table} VALUES (1,'a@x','078-05-1120','n'),(2,'b@x','078-05-1121','n'),(3,'c@x','078-05-1122','n')`);
    });
    after(async () => {
      await db.admin(`DROP TABLE IF EXISTS ${table}`);
    });

    async function withPolicy(
      policy: PolicyInput,
      fn: (h: { run: (sql: string, params?: unknown[]) => Promise<unknown>; events: QuerytrailEvent[]; healthy: () => Promise<boolean> }) => Promise<void>,
      params: 'raw' | 'hashed' = 'hashed',
    ): Promise<void> {
      const events: QuerytrailEvent[] = [];
      const h = await db.open({
        service: { name: 'policy-e2e', env: 'prod' },
        journal: false,
        params: { mode: params },
        catalog: { mode: false },
        policy,
        onEvent: validatingListener((e) => events.push(e)),
      });
      try {
        await fn({ run: h.run, events, healthy: h.healthy });
      } finally {
        await h.close();
      }
    }

    async function count(): Promise<number> {
      const rows = await db.admin(`SELECT count(*) AS n FROM ${table}`);
      return Number(rows[0]!.n);
    }

    const alice = { type: 'human' as const, id: 'alice', roles: ['developer'] };

    test('a destructive statement outside every window is blocked before it is sent; the pool stays healthy', async () => {
      await withPolicy({ version: 1, mode: 'enforce', windows: [alwaysClosed] }, async ({ run, events, healthy }) => {
        const before = await count();
        const { runWithContext } = await import('@querytrail/core');
        await assert.rejects(
          runWithContext({ actor: alice }, () => run(`DELETE FROM ${table}`)),
          (e: unknown) => e instanceof QueryBlockedError && e.code === 'QT_ERR_POLICY_BLOCKED' && e.ruleId === 'destructive',
        );
        assert.equal(await count(), before, 'nothing reached the database');
        const blocked = events.find((e) => e.type === 'db.query.blocked');
        assert.equal(blocked?.actor?.id, 'alice');
        assert.equal(blocked?.policy?.decision, 'block');
        assert.equal(blocked?.policy?.mode, 'enforce');
        assert.equal(blocked?.statement?.destructive, true);
        assert.ok(events.some((e) => e.type === 'policy.alert' && e.alert?.kind === 'block'));
        assert.ok(await healthy());
        for (let i = 0; i < 5; i++) await assert.rejects(run(`TRUNCATE TABLE ${table}`)); // more blocks than connections
        assert.ok(await healthy(), 'no leaked connection after repeated blocks');
      });
    });

    test('inside an open window the same statement goes through, with the window on record', async () => {
      await withPolicy({ version: 1, mode: 'enforce', windows: [openNow] }, async ({ run, events }) => {
        await run(`UPDATE ${table} SET note = 'w'`);
        const e = events.find((x) => x.type === 'db.query' && x.statement?.text?.startsWith('UPDATE'));
        assert.equal(e?.result?.outcome, 'success');
        assert.equal(e?.policy?.window?.id, 'now');
      });
    });

    test('approvals: valid lets through; expired and self-approved are blocked', async () => {
      const { runWithContext } = await import('@querytrail/core');
      const future = new Date(Date.now() + 3600_000).toISOString();
      const past = new Date(Date.now() - 1000).toISOString();
      await withPolicy({ version: 1, windows: [alwaysClosed], destructive: { approvals: true } }, async ({ run, events }) => {
        await runWithContext({ actor: alice, approval: { ticket: 'CHG-1', approver: 'carol', expires: future, actor: 'alice' } }, () =>
          run(`UPDATE ${table} SET note = 'approved'`),
        );
        assert.equal(events.find((e) => e.type === 'db.query')?.policy?.approval?.ticket, 'CHG-1');
        await assert.rejects(
          runWithContext({ actor: alice, approval: { ticket: 'CHG-2', approver: 'carol', expires: past } }, () => run(`UPDATE ${table} SET note = 'late'`)),
          QueryBlockedError,
        );
        await assert.rejects(
          runWithContext({ actor: alice, approval: { ticket: 'CHG-3', approver: 'alice', expires: future } }, () => run(`UPDATE ${table} SET note = 'self'`)),
          QueryBlockedError,
        );
      });
    });

    test('break-glass is allowed, recorded as policy.override and alerted', async () => {
      const { runWithContext } = await import('@querytrail/core');
      await withPolicy({ version: 1, windows: [alwaysClosed], breakGlass: { allowed: true } }, async ({ run, events }) => {
        await runWithContext({ actor: alice, breakGlass: { reason: 'INC-7 outage' } }, () => run(`UPDATE ${table} SET note = 'fix'`));
        const override = events.find((e) => e.type === 'policy.override');
        assert.equal(override?.policy?.decision, 'allow_override');
        assert.match(override?.policy?.reason ?? '', /INC-7/);
        assert.ok(events.some((e) => e.type === 'policy.alert' && e.alert?.kind === 'override'));
        assert.equal(events.find((e) => e.type === 'db.query')?.result?.outcome, 'success');
      });
    });

    test('monitor mode records "would block" and lets the statement through', async () => {
      await withPolicy({ version: 1, mode: 'monitor', windows: [alwaysClosed] }, async ({ run, events }) => {
        await run(`UPDATE ${table} SET note = 'monitored'`);
        const e = events.find((x) => x.type === 'db.query');
        assert.equal(e?.result?.outcome, 'success');
        assert.equal(e?.policy?.decision, 'block');
        assert.equal(e?.policy?.mode, 'monitor');
        assert.ok(events.some((x) => x.type === 'policy.alert' && x.alert?.kind === 'would_block'));
      });
    });

    test('sensitive columns are tagged, and their values are never written raw', async () => {
      const policy: PolicyInput = { version: 1, sensitive: [{ id: 'pii', category: 'pii', columns: [`*.${table}.ssn`, `*.${table}.email`] }] };
      await withPolicy(
        policy,
        async ({ run, events }) => {
          await run(`SELECT email FROM ${table} WHERE ssn = ${db === pgDb ? '$1' : '?'}`, ['078-05-1120']);
          await run(`SELECT note FROM ${table} WHERE id = ${db === pgDb ? '$1' : '?'}`, [2]);
          const [sensitive, plain] = events.filter((e) => e.type === 'db.query');
          assert.deepEqual(sensitive?.sensitivity?.tags, ['pii']);
          assert.ok(sensitive?.sensitivity?.matched.some((m) => m.column === 'email'));
          assert.equal(sensitive?.statement?.params?.mode, 'hashed');
          assert.ok(!JSON.stringify(sensitive).includes('078-05-1120'), 'the ssn value is not in the event');
          assert.equal(plain?.statement?.params?.mode, 'raw');
          assert.deepEqual(plain?.statement?.params?.values, [2]);
        },
        'raw',
      );
    });

    test('bulk reads: crossing the per-statement block threshold stops the actor’s next statements', async () => {
      const { runWithContext } = await import('@querytrail/core');
      const policy: PolicyInput = {
        version: 1,
        sensitive: [{ id: 'pii', category: 'pii', columns: [`*.${table}.ssn`] }],
        bulk: { perStatement: { alert: 2, block: 3 }, blockSeconds: 60 },
      };
      await withPolicy(policy, async ({ run, events }) => {
        await runWithContext({ actor: alice }, () => run(`SELECT ssn FROM ${table}`)); // 3 rows: already read
        assert.ok(events.some((e) => e.type === 'policy.alert' && e.alert?.kind === 'bulk_read'));
        await assert.rejects(runWithContext({ actor: alice }, () => run(`SELECT note FROM ${table} WHERE id = 1`)), QueryBlockedError);
        await runWithContext({ actor: { type: 'human', id: 'bob' } }, () => run(`SELECT note FROM ${table} WHERE id = 1`)); // others unaffected
      });
    });

    test('unknown statements are blocked when enforcing and alerted when monitoring', async () => {
      const garbage = 'SELEKT * FRUM nowhere';
      await withPolicy({ version: 1, mode: 'enforce' }, async ({ run, events }) => {
        await assert.rejects(run(garbage), QueryBlockedError);
        assert.equal(events.find((e) => e.type === 'db.query.blocked')?.statement?.class, 'unknown');
      });
      await withPolicy({ version: 1, mode: 'monitor' }, async ({ run, events }) => {
        await assert.rejects(run(garbage), (e: unknown) => !(e instanceof QueryBlockedError)); // the server's syntax error
        assert.ok(events.some((e) => e.type === 'policy.alert' && e.alert?.kind === 'would_block'));
      });
    });

    test('an onAlert hook that throws or hangs never breaks a query', async () => {
      let calls = 0;
      const policy: PolicyInput = {
        version: 1,
        mode: 'monitor',
        windows: [alwaysClosed],
        onAlert: [
          () => {
            calls++;
            throw new Error('hook exploded');
          },
          () => new Promise<void>(() => undefined),
        ],
        alertTimeoutMs: 50,
      };
      await withPolicy(policy, async ({ run, events }) => {
        await run(`UPDATE ${table} SET note = 'hooks'`);
        assert.equal(events.find((e) => e.type === 'db.query')?.result?.outcome, 'success');
      });
      assert.ok(calls >= 1, 'the throwing hook ran');
    });
  });
}
