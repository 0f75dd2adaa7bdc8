/**
 * How the sinks read AWS SDK v3 errors (shared by the Firehose and S3 sinks). The SDK's own retries
 * are switched off (maxAttempts 1) so that the delivery engine's backoff is the only one in charge:
 * a sink classifies the error and throws it on, with a throttling hint when the service asked to
 * slow down.
 */
interface AwsErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'SlowDown',
  'LimitExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);

const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

function asAws(err: unknown): AwsErrorLike {
  return typeof err === 'object' && err !== null ? (err as AwsErrorLike) : {};
}

export function errorName(err: unknown): string {
  const e = asAws(err);
  return typeof e.name === 'string' ? e.name : 'Error';
}

export function httpStatus(err: unknown): number | undefined {
  return asAws(err).$metadata?.httpStatusCode;
}

/** The service asked us to slow down (429, 503, or a throttling error code). */
export function isThrottling(err: unknown): boolean {
  const e = asAws(err);
  const status = httpStatus(err);
  return THROTTLING.has(errorName(err)) || e.$retryable?.throttling === true || status === 429 || status === 503;
}

/** Worth retrying as is: throttling, a 5xx, a timeout or a network failure. Anything else needs an operator. */
export function isTransient(err: unknown): boolean {
  const e = asAws(err);
  const status = httpStatus(err);
  if (isThrottling(err)) return true;
  if (status !== undefined && status >= 500) return true;
  const name = errorName(err);
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'RequestTimeout' || name === 'RequestTimeoutException') return true;
  return typeof e.code === 'string' && NETWORK.has(e.code);
}

/** Static credentials given in a client config: their values are scrubbed from every message we write. */
export function credentialValues(config: unknown): string[] {
  const creds = (config as { credentials?: unknown } | undefined)?.credentials;
  if (typeof creds !== 'object' || creds === null) return [];
  const c = creds as Record<string, unknown>;
  return [c.accessKeyId, c.secretAccessKey, c.sessionToken].filter((v): v is string => typeof v === 'string' && v.length >= 4);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * The error a sink throws or reports: a plain message naming the operation and the AWS error (never
 * the request, its headers or the client config), the throttling hint for the engine, and the SDK
 * error as `cause` for debugging.
 */
export class AwsSinkError extends Error {
  readonly retryAfterMs?: number;
  readonly transient: boolean;
  readonly awsErrorName: string;
  readonly httpStatus?: number;

  constructor(what: string, err: unknown, options: { retryAfterMs?: number; secrets?: readonly string[] } = {}) {
    const name = errorName(err);
    const status = httpStatus(err);
    const detail = typeof asAws(err).message === 'string' ? (asAws(err).message as string) : String(err);
    super(redact(`${what} failed: ${name}${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}`, options.secrets ?? []), { cause: err });
    this.name = 'AwsSinkError';
    this.transient = isTransient(err);
    this.awsErrorName = name;
    if (status !== undefined) this.httpStatus = status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The request handler settings for a client the sink creates. Without throwOnRequestTimeout the SDK
 * only warns when requestTimeout passes and keeps waiting, so an answer lost in the network would
 * stall delivery; with it, the call fails, the engine backs off and resends (dedup by event_id).
 * A handler instance given in clientConfig is used as is; a settings object is completed.
 */
export function requestHandlerSettings(given: unknown, requestTimeoutMs: number): unknown {
  if (typeof given === 'object' && given !== null && typeof (given as { handle?: unknown }).handle === 'function') return given;
  const base = { requestTimeout: requestTimeoutMs, connectionTimeout: Math.min(requestTimeoutMs, 10_000), throwOnRequestTimeout: true };
  return typeof given === 'object' && given !== null ? { ...base, ...given } : base;
}
