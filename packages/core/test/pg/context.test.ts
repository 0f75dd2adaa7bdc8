import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { context as otelContext, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createNamespace } from 'cls-hooked';
import express from 'express';
import Fastify from 'fastify';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { QuerytrailEvent } from '@querytrail/core';
import { harness, PG_CONFIG, settle } from './helpers.js';

/** Every db.query event carrying `marker` names, as its first parameter, the N of the actor `user-N`. */
function assertActorsMatch(events: QuerytrailEvent[], marker: string, expected: number): void {
  const evs = events.filter((e) => e.type === 'db.query' && (e.statement?.text ?? '').includes(marker));
  assert.equal(evs.length, expected, `${marker}: expected ${expected} events`);
  for (const ev of evs) {
    const n = ev.statement?.params?.values?.[0];
    assert.equal(ev.actor?.id, `user-${n}`, `${ev.statement?.text} with ${n} recorded for ${ev.actor?.id}`);
  }
}

const Q = (tag: string) => `SELECT $1::text AS n /* ${tag} */`;

describe('context: the actor is the caller’s on every path', () => {
  test('50 concurrent actors on pg.Pool({ max: 2 }): pool.query (promise, callback), pool.connect (promise, callback), cursor', async () => {
    const h = harness();
    const pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
    const jitter = () => new Promise((r) => setTimeout(r, Math.random() * 3));
    const request = async (n: number): Promise<void> => {
      const id = String(n);
      await pool.query(Q('promise'), [id]);
      await jitter();
      await new Promise<void>((resolve, reject) =>
        pool.query(Q('callback'), [id], (err) => {
          if (err) return reject(err);
          // a statement sent from inside a driver callback
          pool.query(Q('nested-callback'), [id], (err2) => (err2 ? reject(err2) : resolve()));
        }),
      );
      const client = await pool.connect();
      try {
        await client.query(Q('connect-promise'), [id]);
        await new Promise<void>((resolve, reject) =>
          client.query(Q('connect-promise-cb'), [id], (err: Error | null) => (err ? reject(err) : resolve())),
        );
        const cursor = client.query(new Cursor(Q('cursor'), [id]));
        await new Promise<void>((resolve, reject) =>
          cursor.read(1, (err) => {
            if (err) return reject(err);
            // sent from inside a cursor callback (which pg-cursor calls from a setImmediate of the
            // socket's data handler); queued on this client behind the cursor, which is closed next
            client.query(Q('cursor-callback'), [id], (qerr: Error | null) => (qerr ? reject(qerr) : resolve()));
            cursor.close();
          }),
        );
      } finally {
        client.release();
      }
      await new Promise<void>((resolve, reject) =>
        pool.connect((err, c, done) => {
          if (err || !c) return reject(err);
          c.query(Q('connect-callback'), [id], (qerr: Error | null) => {
            done();
            return qerr ? reject(qerr) : resolve();
          });
        }),
      );
    };
    try {
      await Promise.all(
        Array.from({ length: 50 }, (_, n) =>
          h.auditor.runWithContext({ actor: { type: 'human', id: `user-${n}` } }, () => request(n)),
        ),
      );
      await settle();
      for (const m of ['promise', 'callback', 'nested-callback', 'connect-promise', 'connect-promise-cb', 'cursor', 'cursor-callback', 'connect-callback']) {
        assertActorsMatch(h.events, `/* ${m} */`, 50);
      }
      assert.equal(h.queries().length, 400);
      assert.equal(pool.waitingCount, 0);
    } finally {
      await pool.end();
    }
  });

  test('statements outside any context carry no actor', async () => {
    const h = harness();
    const client = h.auditor.instrumentPg(new pg.Client(PG_CONFIG));
    await h.auditor.runWithContext({ actor: { type: 'service', id: 'boot' } }, () => client.connect());
    try {
      await client.query('SELECT 1 /* no-actor */');
      const ev = h.withText('/* no-actor */')[0];
      assert.equal(ev?.actor, undefined);
    } finally {
      await client.end();
    }
  });
});

describe('context: OpenTelemetry trace ids', () => {
  const provider = new BasicTracerProvider();
  const manager = new AsyncLocalStorageContextManager();
  before(() => {
    otelContext.setGlobalContextManager(manager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  after(async () => {
    trace.disable();
    otelContext.disable();
    await provider.shutdown();
  });

  test('the active span’s trace_id / span_id / flags land in event.trace, per concurrent span', async () => {
    const h = harness();
    const pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
    const tracer = trace.getTracer('qt-test');
    const spans = new Map<string, { traceId: string; spanId: string }>();
    try {
      await Promise.all(
        Array.from({ length: 10 }, (_, n) =>
          tracer.startActiveSpan(`req-${n}`, async (span) => {
            spans.set(String(n), { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
            await pool.query(Q('otel-promise'), [String(n)]);
            await new Promise<void>((resolve, reject) =>
              pool.query(Q('otel-callback'), [String(n)], (err) => (err ? reject(err) : resolve())),
            );
            span.end();
          }),
        ),
      );
      const evs = h.queries();
      assert.equal(evs.length, 20);
      for (const ev of evs) {
        const expected = spans.get(String(ev.statement?.params?.values?.[0]));
        assert.ok(expected);
        assert.deepEqual(ev.trace, { trace_id: expected.traceId, span_id: expected.spanId, flags: '01' });
      }
      await pool.query('SELECT 1 /* no-span */');
      assert.equal(h.withText('/* no-span */')[0]?.trace, undefined);
    } finally {
      await pool.end();
    }
  });
});

describe('context: HTTP frameworks and contextProvider', () => {
  const h = harness();
  let pool: pg.Pool;
  before(() => {
    pool = h.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
  });
  after(async () => {
    await pool.end();
  });

  const hit = (base: string, n: number) =>
    fetch(`${base}/q?n=${n}`, { headers: { 'x-user': `user-${n}`, 'x-request-id': `req-${n}` } }).then(async (r) => {
      assert.equal(r.status, 200, await r.text());
    });

  test('Express middleware: the actor of a real HTTP request reaches its queries', async () => {
    h.clear();
    const app = express();
    app.use(
      h.auditor.express((req: express.Request) => ({
        actor: { type: 'human', id: String(req.headers['x-user']) },
      })),
    );
    app.get('/q', async (req, res) => {
      const n = String(req.query.n);
      await pool.query(Q('express'), [n]);
      pool.query(Q('express-cb'), [n], (err) => {
        if (err) res.status(500).send(String(err));
        else res.json({ ok: true });
      });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await Promise.all(Array.from({ length: 20 }, (_, n) => hit(base, n)));
      assertActorsMatch(h.events, '/* express */', 20);
      assertActorsMatch(h.events, '/* express-cb */', 20);
      const ev = h.withText('/* express */')[0]!;
      assert.equal(ev.request?.method, 'GET');
      assert.equal(ev.request?.id, `req-${ev.statement?.params?.values?.[0]}`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('Fastify plugin: the actor of a real HTTP request reaches its queries', async () => {
    h.clear();
    const app = Fastify();
    await app.register(
      h.auditor.fastify((req: { headers: Record<string, unknown> }) => ({
        actor: { type: 'human', id: String(req.headers['x-user']) },
      })) as unknown as Parameters<typeof app.register>[0],
    );
    app.get('/q', async (req) => {
      const n = String((req.query as { n: string }).n);
      await pool.query(Q('fastify'), [n]);
      const c = await pool.connect();
      try {
        await c.query(Q('fastify-connect'), [n]);
      } finally {
        c.release();
      }
      return { ok: true };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      await Promise.all(Array.from({ length: 20 }, (_, n) => hit(base, n)));
      assertActorsMatch(h.events, '/* fastify */', 20);
      assertActorsMatch(h.events, '/* fastify-connect */', 20);
      assert.equal(h.withText('/* fastify */')[0]?.request?.route, '/q');
    } finally {
      await app.close();
    }
  });

  test('contextProvider backed by a cls-hooked namespace supplies the actor', async () => {
    const ns = createNamespace(`qt-test-${process.pid}-${Date.now()}`);
    const hc = harness({
      contextProvider: () => {
        const id = ns.get('user') as string | undefined;
        return id === undefined ? undefined : { actor: { type: 'human', id } };
      },
    });
    const clsPool = hc.auditor.instrumentPg(new pg.Pool({ ...PG_CONFIG, max: 2 }));
    try {
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, n) =>
            new Promise<void>((resolve, reject) =>
              ns.run(() => {
                ns.set('user', `user-${n}`);
                clsPool.query(Q('cls-cb'), [String(n)], (err) => {
                  if (err) return reject(err);
                  clsPool.connect((cerr, c, done) => {
                    if (cerr || !c) return reject(cerr);
                    c.query(Q('cls-connect'), [String(n)], (qerr: Error | null) => {
                      done();
                      if (qerr) return reject(qerr);
                      clsPool.query(Q('cls-promise'), [String(n)]).then(() => resolve(), reject);
                    });
                  });
                });
              }),
            ),
        ),
      );
      assertActorsMatch(hc.events, '/* cls-cb */', 20);
      assertActorsMatch(hc.events, '/* cls-connect */', 20);
      assertActorsMatch(hc.events, '/* cls-promise */', 20);
      // runWithContext wins over the provider
      await ns.runPromise(async () => {
        ns.set('user', 'user-x');
        await hc.auditor.runWithContext({ actor: { type: 'human', id: 'user-7' } }, () => clsPool.query(Q('cls-override'), ['7']));
      });
      assertActorsMatch(hc.events, '/* cls-override */', 1);
    } finally {
      await clsPool.end();
    }
  });
});
