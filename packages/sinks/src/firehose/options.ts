import type { FirehoseClient, FirehoseClientConfig } from '@aws-sdk/client-firehose';
import { ConfigError } from '@querytrail/core';

export interface FirehoseSinkOptions {
  /** The Firehose stream (Direct PUT source) that receives one record per journal line. */
  deliveryStreamName: string;
  /**
   * A client you configured yourself. Set `maxAttempts: 1` on it so that querytrail's backoff is the
   * only retry loop (docs/sinks-aws.md). Not destroyed by close().
   */
  client?: FirehoseClient;
  /** Config for the client the sink creates (region, credentials, endpoint, ...); maxAttempts defaults to 1. */
  clientConfig?: FirehoseClientConfig;
  /** Sink name, unique per journal directory (names the cursor). Default `firehose-<deliveryStreamName>`. */
  name?: string;
  /** Per request timeout of the client the sink creates, in ms. Default 30,000. */
  requestTimeoutMs?: number;
  /** Wait suggested to the engine after a throttling answer, in ms. Default 1000. */
  throttleRetryMs?: number;
  /** Check at start that the stream exists (DescribeDeliveryStream; skipped if not permitted). Default true. */
  checkStream?: boolean;
  /** Told about lines too long for Firehose (see docs). Default: a process warning. */
  onError?: (error: Error) => void;
}

export interface ResolvedFirehoseOptions {
  deliveryStreamName: string;
  name: string;
  requestTimeoutMs: number;
  throttleRetryMs: number;
  checkStream: boolean;
  onError: (error: Error) => void;
}

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

function positive(path: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new ConfigError(path, `expected a positive number of milliseconds, got ${String(value)}`);
  return value;
}

/** Validates the settings once, at configuration time; errors name the field, never a credential. */
export function resolveFirehoseOptions(options: FirehoseSinkOptions): ResolvedFirehoseOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('firehose', 'expected an options object');
  const stream = options.deliveryStreamName as unknown;
  if (typeof stream !== 'string' || stream === '') throw new ConfigError('firehose.deliveryStreamName', 'is required (the name of a Firehose stream)');
  if (!STREAM_NAME.test(stream)) throw new ConfigError('firehose.deliveryStreamName', `"${stream}" is not a Firehose stream name (1-64 of a-z A-Z 0-9 _ . -)`);
  if (options.client !== undefined && options.clientConfig !== undefined) {
    throw new ConfigError('firehose.clientConfig', 'give either client or clientConfig, not both');
  }
  if (options.client !== undefined && typeof (options.client as { send?: unknown }).send !== 'function') {
    throw new ConfigError('firehose.client', 'expected a FirehoseClient from @aws-sdk/client-firehose');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !/^[A-Za-z0-9_.-]{1,100}$/.test(options.name))) {
    throw new ConfigError('firehose.name', 'expected 1-100 of A-Z a-z 0-9 _ . - (it names a cursor file)');
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new ConfigError('firehose.onError', 'expected a function');
  return {
    deliveryStreamName: stream,
    name: options.name ?? `firehose-${stream}`,
    requestTimeoutMs: positive('firehose.requestTimeoutMs', options.requestTimeoutMs, 30_000),
    throttleRetryMs: positive('firehose.throttleRetryMs', options.throttleRetryMs, 1000),
    checkStream: options.checkStream ?? true,
    onError: options.onError ?? ((e) => process.emitWarning(e.message, { code: 'QUERYTRAIL_SINK' })),
  };
}
