import { ConfigError, type SinkRecord } from '@querytrail/core';
import type { ConnectionOptions, NatsConnection } from 'nats';
import { optionalOneOf, optionalPositiveInt, optionalString, requireObject, sinkName } from '../common/settings.js';

export interface NatsStreamOptions {
  /** Stream name. Default 'QUERYTRAIL'. */
  name?: string;
  /** Subjects the stream holds when it is created. Default [`<subjectPrefix>.>`]. */
  subjects?: string[];
  /** Create the stream if it is missing. Default true. */
  create?: boolean;
  /** Messages older than this are removed (ms). Default 90 days. */
  maxAgeMs?: number;
  /** Stream size limit in bytes. Default 10 GiB. */
  maxBytes?: number;
  /** JetStream dedups a msgID seen within this window (ms). Default 1 hour. */
  duplicateWindowMs?: number;
  /** Copies in a cluster. Default 1 (use 3 for a replicated fleet stream). */
  replicas?: number;
  /** When full: 'new' (default) refuses new messages, so delivery waits and nothing is lost; 'old' drops the oldest. */
  discard?: 'new' | 'old';
}

export interface NatsSinkOptions {
  /** Server URL(s), e.g. 'nats://10.0.0.5:4222'. Required unless `connection` is given. */
  servers?: string | string[];
  /** An existing connection to use instead (not closed by the sink). */
  connection?: NatsConnection;
  /** Credentials. Never logged or put into errors. */
  user?: string;
  pass?: string;
  token?: string;
  /** More connection settings (tls, authenticator, ...). */
  connectOptions?: Partial<ConnectionOptions>;
  stream?: NatsStreamOptions;
  /** Subject prefix. Default 'querytrail': events go to `<prefix>.events.<chain_id>`, checkpoints to `<prefix>.checkpoints.<chain_id>`. */
  subjectPrefix?: string;
  /** Or choose the subject per record. */
  subject?: (record: SinkRecord) => string;
  /** How long to wait for each PubAck (ms). Default 5000. */
  publishTimeoutMs?: number;
  /** Records per write. Default 256. */
  maxBatch?: number;
  /** Cursor name. Default 'nats'. */
  name?: string;
}

export interface ResolvedNatsOptions {
  name: string;
  servers: string[] | undefined;
  connection: NatsConnection | undefined;
  auth: { user?: string; pass?: string; token?: string };
  connectOptions: Partial<ConnectionOptions>;
  stream: Required<Omit<NatsStreamOptions, 'subjects'>> & { subjects: string[] };
  subject: (record: SinkRecord) => string;
  publishTimeoutMs: number;
  maxBatch: number;
  /** Values to scrub from any message (credentials). */
  secrets: string[];
}

const DAY = 24 * 3600 * 1000;
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Validates at call time: each error names its field (`nats.servers`, `nats.stream.maxAgeMs`, ...). */
export function resolveNatsOptions(options: NatsSinkOptions): ResolvedNatsOptions {
  const o = requireObject(options, 'nats');
  const connection = o.connection as NatsConnection | undefined;
  if (connection !== undefined && typeof (connection as { jetstream?: unknown }).jetstream !== 'function') {
    throw new ConfigError('nats.connection', 'expected a NatsConnection from the nats package (v2)');
  }
  let servers: string[] | undefined;
  if (o.servers !== undefined) {
    const list = typeof o.servers === 'string' ? [o.servers] : o.servers;
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
      throw new ConfigError('nats.servers', "expected a server URL or a non-empty array of them, e.g. 'nats://127.0.0.1:4222'");
    }
    servers = list as string[];
  } else if (connection === undefined) {
    throw new ConfigError('nats.servers', "required (or pass an existing connection): e.g. 'nats://127.0.0.1:4222'");
  }
  const auth: ResolvedNatsOptions['auth'] = {};
  for (const k of ['user', 'pass', 'token'] as const) {
    const v = optionalString(o, k, 'nats');
    if (v !== undefined) auth[k] = v;
  }
  const connectOptions = o.connectOptions === undefined ? {} : (requireObject(o.connectOptions, 'nats.connectOptions') as Partial<ConnectionOptions>);
  const prefix = optionalString(o, 'subjectPrefix', 'nats') ?? 'querytrail';
  if (!SUBJECT_TOKEN.test(prefix)) throw new ConfigError('nats.subjectPrefix', 'expected dot-separated tokens of letters, digits, "_" or "-" (no wildcards)');
  if (o.subject !== undefined && typeof o.subject !== 'function') throw new ConfigError('nats.subject', 'expected a function (record) => subject');
  const subject = (o.subject as ((r: SinkRecord) => string) | undefined) ?? ((r: SinkRecord) => `${prefix}.${r.kind === 'event' ? 'events' : 'checkpoints'}.${r.chainId}`);

  const s = o.stream === undefined ? {} : requireObject(o.stream, 'nats.stream');
  const streamName = optionalString(s, 'name', 'nats.stream') ?? 'QUERYTRAIL';
  if (!/^[A-Za-z0-9_-]+$/.test(streamName)) throw new ConfigError('nats.stream.name', 'expected letters, digits, "_" or "-"');
  let subjects = [`${prefix}.>`];
  if (s.subjects !== undefined) {
    if (!Array.isArray(s.subjects) || s.subjects.length === 0 || !s.subjects.every((x) => typeof x === 'string' && x.length > 0)) {
      throw new ConfigError('nats.stream.subjects', 'expected a non-empty array of subjects');
    }
    subjects = s.subjects as string[];
  }
  if (s.create !== undefined && typeof s.create !== 'boolean') throw new ConfigError('nats.stream.create', 'expected true or false');
  const stream = {
    name: streamName,
    subjects,
    create: s.create !== false,
    maxAgeMs: optionalPositiveInt(s, 'maxAgeMs', 'nats.stream') ?? 90 * DAY,
    maxBytes: optionalPositiveInt(s, 'maxBytes', 'nats.stream') ?? 10 * 1024 ** 3,
    duplicateWindowMs: optionalPositiveInt(s, 'duplicateWindowMs', 'nats.stream') ?? 3600 * 1000,
    replicas: optionalPositiveInt(s, 'replicas', 'nats.stream') ?? 1,
    discard: optionalOneOf(s, 'discard', 'nats.stream', ['new', 'old'] as const) ?? 'new',
  };
  if (stream.duplicateWindowMs > stream.maxAgeMs) throw new ConfigError('nats.stream.duplicateWindowMs', 'must not exceed maxAgeMs');
  return {
    name: sinkName(o, 'nats', 'nats'),
    servers,
    connection,
    auth,
    connectOptions,
    stream,
    subject,
    publishTimeoutMs: optionalPositiveInt(o, 'publishTimeoutMs', 'nats') ?? 5000,
    maxBatch: optionalPositiveInt(o, 'maxBatch', 'nats') ?? 256,
    secrets: [auth.pass, auth.token].filter((v): v is string => v !== undefined),
  };
}
