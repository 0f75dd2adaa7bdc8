import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { SinkFile } from '@querytrail/core';
import { ConfigError } from '@querytrail/core';

export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface S3ObjectLockSinkOptions {
  /** A bucket created with Object Lock enabled (versioning is then on). Checked at start. */
  bucket: string;
  /** Key prefix, e.g. `audit/billing-api/` (a trailing '/' is added). Default: none. */
  prefix?: string;
  /** GOVERNANCE (removable with s3:BypassGovernanceRetention) or COMPLIANCE (nobody, root included). */
  mode: ObjectLockMode;
  /** Retain each object this many days from its upload. Give this or retainUntil. */
  retainDays?: number;
  /** Or compute the retain-until date per file. */
  retainUntil?: (file: SinkFile) => Date;
  /** Also place a legal hold on each object (kept until removed, whatever the retention). Default false. */
  legalHold?: boolean;
  /** A client you configured yourself; set `maxAttempts: 1` on it (docs/sinks-aws.md). Not destroyed by close(). */
  client?: S3Client;
  /** Config for the client the sink creates (region, credentials, endpoint, ...); maxAttempts defaults to 1. */
  clientConfig?: S3ClientConfig;
  /** Sink name, unique per journal directory (names the cursor). Default `s3-<bucket>`. */
  name?: string;
  /** Per request timeout of the client the sink creates, in ms. Default 120,000 (segments are up to 64 MiB). */
  requestTimeoutMs?: number;
  /** Wait suggested to the engine after SlowDown / 503, in ms. Default 1000. */
  throttleRetryMs?: number;
  /** Files uploaded at the same time. Default 4. */
  concurrency?: number;
  /** Told about conflicts (a segment key that already holds other bytes). Default: a process warning. */
  onError?: (error: Error) => void;
}

export interface ResolvedS3Options {
  bucket: string;
  prefix: string;
  mode: ObjectLockMode;
  retainUntil: (file: SinkFile) => Date;
  legalHold: boolean;
  name: string;
  requestTimeoutMs: number;
  throttleRetryMs: number;
  concurrency: number;
  onError: (error: Error) => void;
}

const DAY_MS = 86_400_000;
// S3 bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, starting and ending alphanumeric.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function positive(path: string, value: unknown, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new ConfigError(path, `expected a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}

/** Validates the settings once, at configuration time; errors name the field, never a credential. */
export function resolveS3Options(options: S3ObjectLockSinkOptions): ResolvedS3Options {
  if (typeof options !== 'object' || options === null) throw new ConfigError('s3', 'expected an options object');
  const bucket = options.bucket as unknown;
  if (typeof bucket !== 'string' || bucket === '') throw new ConfigError('s3.bucket', 'is required (a bucket with Object Lock enabled)');
  if (!BUCKET.test(bucket)) throw new ConfigError('s3.bucket', `"${bucket}" is not a valid S3 bucket name`);
  const prefix = (options.prefix ?? '') as unknown;
  if (typeof prefix !== 'string') throw new ConfigError('s3.prefix', 'expected a string');
  if (prefix.startsWith('/')) throw new ConfigError('s3.prefix', 'must not start with "/" (S3 keys are relative to the bucket)');
  if (prefix.length > 512) throw new ConfigError('s3.prefix', 'is longer than 512 characters');
  const mode = options.mode as unknown;
  if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw new ConfigError('s3.mode', `expected 'GOVERNANCE' or 'COMPLIANCE', got ${JSON.stringify(mode)}`);
  const hasDays = options.retainDays !== undefined;
  const hasFn = options.retainUntil !== undefined;
  if (hasDays === hasFn) throw new ConfigError('s3.retainDays', 'give exactly one of retainDays or retainUntil');
  let retainUntil: (file: SinkFile) => Date;
  if (hasDays) {
    const days = positive('s3.retainDays', options.retainDays, 0);
    retainUntil = () => new Date(Date.now() + days * DAY_MS);
  } else {
    if (typeof options.retainUntil !== 'function') throw new ConfigError('s3.retainUntil', 'expected a function (file) => Date');
    retainUntil = options.retainUntil;
  }
  if (options.legalHold !== undefined && typeof options.legalHold !== 'boolean') throw new ConfigError('s3.legalHold', 'expected true or false');
  if (options.client !== undefined && options.clientConfig !== undefined) throw new ConfigError('s3.clientConfig', 'give either client or clientConfig, not both');
  if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
    throw new ConfigError('s3.client', 'expected an S3Client from @aws-sdk/client-s3');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(options.name))) {
    throw new ConfigError('s3.name', 'expected 1-100 of A-Z a-z 0-9 _ . - (it names a cursor file)');
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new ConfigError('s3.onError', 'expected a function');
  return {
    bucket,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    mode,
    retainUntil,
    legalHold: options.legalHold ?? false,
    name: options.name ?? `s3-${bucket}`,
    requestTimeoutMs: positive('s3.requestTimeoutMs', options.requestTimeoutMs, 120_000),
    throttleRetryMs: positive('s3.throttleRetryMs', options.throttleRetryMs, 1000),
    concurrency: positive('s3.concurrency', options.concurrency, 4, true),
    onError: options.onError ?? ((e) => process.emitWarning(e.message, { code: 'QUERYTRAIL_SINK' })),
  };
}
