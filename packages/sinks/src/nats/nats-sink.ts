import { ConfigError, type Sink, type SinkBatch, type SinkWriteResult } from '@querytrail/core';
import type { JetStreamClient, NatsConnection, StreamConfig } from 'nats';
import { type NatsSinkOptions, resolveNatsOptions, type ResolvedNatsOptions } from './options.js';

type NatsModule = typeof import('nats');

const NANOS_PER_MS = 1_000_000;

/**
 * Publishes every journal line to NATS JetStream, with the record's dedupId (event_id, or
 * checkpoint:<chain>:<index>) as the message id: a resend within the stream's duplicate window is
 * dropped by the server. The path for fleets: many app instances into one replicated stream, each
 * instance with its own chain. See docs/sinks.md.
 */
export function natsSink(options: NatsSinkOptions): Sink {
  const o = resolveNatsOptions(options);
  const encoder = new TextEncoder();
  let nats: NatsModule | undefined;
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let connecting: Promise<JetStreamClient> | undefined;
  let streamReady = false;
  let closed = false;
  /** Publishes the server dropped as duplicates (visible for tests and metrics). */
  let duplicates = 0;

  const scrub = (message: string): string => {
    let m = message.replace(/\/\/[^/@\s]+@/g, '//***@');
    for (const secret of o.secrets) m = m.split(secret).join('***');
    return m;
  };
  const fail = (what: string, err: unknown): Error => new Error(`nats: ${what}: ${scrub(err instanceof Error ? err.message : String(err))}`);

  const ensureStream = async (conn: NatsConnection): Promise<void> => {
    if (streamReady) return;
    const jsm = await conn.jetstreamManager();
    try {
      await jsm.streams.info(o.stream.name);
      streamReady = true;
      return;
    } catch (err) {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== 10059 && !/stream not found/i.test(String(err))) throw err;
    }
    if (!o.stream.create) throw new ConfigError('nats.stream.name', `stream ${o.stream.name} does not exist and stream.create is false`);
    const config: Partial<StreamConfig> = {
      name: o.stream.name,
      subjects: o.stream.subjects,
      storage: 'file' as StreamConfig['storage'],
      discard: o.stream.discard as StreamConfig['discard'],
      max_age: o.stream.maxAgeMs * NANOS_PER_MS,
      max_bytes: o.stream.maxBytes,
      duplicate_window: o.stream.duplicateWindowMs * NANOS_PER_MS,
      num_replicas: o.stream.replicas,
    };
    await jsm.streams.add(config);
    streamReady = true;
  };

  /** Connects (once; the client then reconnects by itself) and makes sure the stream exists. */
  const client = (): Promise<JetStreamClient> => {
    if (js && nc && !nc.isClosed()) return Promise.resolve(js);
    connecting ??= (async () => {
      try {
        nats ??= await import('nats');
        nc =
          o.connection ??
          (await nats.connect({
            name: 'querytrail',
            maxReconnectAttempts: -1, // an outage delays delivery; the client keeps trying
            reconnectTimeWait: 500,
            timeout: o.publishTimeoutMs, // a first connect to a dead server fails fast; the engine retries
            ...(o.servers ? { servers: o.servers } : {}),
            ...o.auth,
            ...o.connectOptions,
          }));
        await ensureStream(nc);
        js = nc.jetstream();
        return js;
      } finally {
        connecting = undefined;
      }
    })();
    return connecting;
  };

  const sink: Sink & { readonly duplicates: number } = {
    name: o.name,
    accepts: 'records',
    maxBatch: o.maxBatch,
    get duplicates() {
      return duplicates;
    },
    async start() {
      try {
        await client();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (err instanceof ConfigError) throw err;
        if (code === 'AUTHORIZATION_VIOLATION' || code === 'BAD_AUTHENTICATION' || code === 'BAD_CREDS' || code === 'AUTHENTICATION_EXPIRED') {
          throw new ConfigError('nats.user', `the server refused the credentials (${code})`);
        }
        if (code === 'PERMISSIONS_VIOLATION' || (err as { api_error?: unknown }).api_error !== undefined) {
          throw new ConfigError('nats.stream', `cannot use or create stream ${o.stream.name}: ${scrub(String((err as Error).message))}`);
        }
        // Server unreachable: not a setting problem. Writes connect later, with the engine's backoff.
      }
    },
    async write(batch: SinkBatch): Promise<SinkWriteResult> {
      if (batch.type !== 'records') return {};
      if (closed) throw new Error('nats: sink is closed');
      let jetstream: JetStreamClient;
      try {
        jetstream = await client();
      } catch (err) {
        throw fail('cannot connect', err);
      }
      const results = await Promise.allSettled(
        batch.records.map((r) => jetstream.publish(o.subject(r), encoder.encode(r.line), { msgID: r.dedupId, timeout: o.publishTimeoutMs })),
      );
      const failed: number[] = [];
      let firstError: unknown;
      results.forEach((res, i) => {
        if (res.status === 'fulfilled') {
          if (res.value.duplicate) duplicates++;
        } else {
          failed.push(i);
          firstError ??= res.reason;
        }
      });
      if (failed.length === batch.records.length) throw fail(`publish of ${failed.length} messages failed`, firstError);
      return failed.length > 0 ? { failed } : {};
    },
    async flush() {
      if (nc && !nc.isClosed()) await nc.flush().catch(() => undefined);
    },
    async close() {
      closed = true;
      if (nc && !o.connection && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
  return sink;
}

export type { ResolvedNatsOptions };
