import type { Auditor } from '@querytrail/core';
import type pg from 'pg';

const alice = { type: 'human', id: 'alice@example.com', name: 'Alice', roles: ['support'] } as const;
const billingBot = { type: 'service', id: 'billing-bot', roles: ['billing'] } as const;

export async function createSchema(auditor: Auditor, pool: pg.Pool): Promise<void> {
  await auditor.runWithContext({ actor: { type: 'system', id: 'demo-setup' }, source: 'migration' }, async () => {
    await pool.query('DROP TABLE IF EXISTS demo_orders');
    await pool.query('DROP TABLE IF EXISTS demo_users');
    await pool.query(
      'CREATE TABLE demo_users (id serial PRIMARY KEY, email text UNIQUE NOT NULL, name text, ssn text)',
    );
    await pool.query(
      'CREATE TABLE demo_orders (id serial PRIMARY KEY, user_id int REFERENCES demo_users(id), total numeric(10,2), status text DEFAULT $$open$$)',
    );
  });
}

/** Alice, a support agent, onboards customers and looks them up: reads of email and ssn. */
async function supportRequest(auditor: Auditor, pool: pg.Pool, n: number): Promise<void> {
  await auditor.runWithContext({ actor: alice, request: { id: `req-alice-${n}`, method: 'POST', route: '/customers' } }, async () => {
    const { rows } = await pool.query('INSERT INTO demo_users (email, name, ssn) VALUES ($1, $2, $3) RETURNING id', [
      `customer${n}@example.com`,
      `Customer ${n}`,
      `078-05-${String(1120 + n).padStart(4, '0')}`,
    ]);
    const id = (rows[0] as { id: number }).id;
    await pool.query('INSERT INTO demo_orders (user_id, total) VALUES ($1, $2), ($1, $3)', [id, 19.99 + n, 5 * n]);
    await pool.query(
      'SELECT u.email, u.ssn, o.id, o.total FROM demo_users u JOIN demo_orders o ON o.user_id = u.id WHERE u.id = $1',
      [id],
    );
    await pool.query('UPDATE demo_users SET name = $1 WHERE id = $2', [`Customer #${n}`, id]);
  });
}

/** The billing service totals and bills open orders, in a transaction on a checked-out client. */
async function billingRequest(auditor: Auditor, pool: pg.Pool, n: number): Promise<void> {
  await auditor.runWithContext({ actor: billingBot, request: { id: `req-billing-${n}`, method: 'POST', route: '/billing/run' } }, async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const open = await client.query("SELECT id, total FROM demo_orders WHERE status = 'open' ORDER BY id LIMIT 2 FOR UPDATE");
      for (const row of open.rows as { id: number }[]) {
        await client.query("UPDATE demo_orders SET status = 'billed' WHERE id = $1", [row.id]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
    // A mistake the trail should show too: a query against a table that does not exist.
    await pool.query('SELECT * FROM invoices').catch(() => undefined);
  });
}

/** Several requests from both actors at once, sharing one small pool. */
export async function runAppFlow(auditor: Auditor, pool: pg.Pool): Promise<void> {
  const work: Promise<void>[] = [];
  for (let n = 1; n <= 4; n++) {
    work.push(supportRequest(auditor, pool, n), billingRequest(auditor, pool, n));
  }
  await Promise.all(work);
}
