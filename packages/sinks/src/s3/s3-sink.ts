import { createHash } from 'node:crypto';
import { HeadObjectCommand, type HeadObjectCommandOutput, PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { Sink, SinkBatch, SinkFile, SinkWriteResult } from '@querytrail/core';
import { ConfigError } from '@querytrail/core';
import { AwsSinkError, credentialValues, errorName, httpStatus, isThrottling, isTransient, requestHandlerSettings } from '../firehose/aws-errors.js';
import { conflictKey, objectKey } from './keys.js';
import { assertObjectLock } from './object-lock-check.js';
import { resolveS3Options, type S3ObjectLockSinkOptions } from './options.js';
import { readExactly } from './read-file.js';

export interface S3SinkStats {
  /** Objects written (PUTs that S3 accepted), conflict copies included. */
  objectsPut: number;
  /** Files found already stored with the same SHA-256 (a resend after a lost answer): not written again. */
  alreadyStored: number;
  /** Segment keys that already held different bytes: reported through onError, the original kept. */
  conflicts: number;
}

export interface S3ObjectLockSink extends Sink {
  readonly accepts: 'files';
  readonly stats: Readonly<S3SinkStats>;
}

type PutOutcome = 'put' | 'already-stored' | 'conflict';

/**
 * Ships sealed journal segments and checkpoint snapshots to an S3 bucket with Object Lock: every
 * object carries ObjectLockMode, ObjectLockRetainUntilDate, the legal hold when asked, and a SHA-256
 * checksum S3 verifies on receipt. Segments are write-once (If-None-Match: *); a checkpoint snapshot
 * re-PUT under its key becomes a new, equally locked, version.
 */
export function s3ObjectLockSink(options: S3ObjectLockSinkOptions): S3ObjectLockSink {
  const o = resolveS3Options(options);
  const secrets = credentialValues(options.clientConfig);
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new S3Client({
      // One attempt per call: the delivery engine retries with backoff and jitter, resending only failed files.
      maxAttempts: 1,
      ...options.clientConfig,
      requestHandler: requestHandlerSettings(options.clientConfig?.requestHandler, o.requestTimeoutMs) as never,
    });
  const stats: S3SinkStats = { objectsPut: 0, alreadyStored: 0, conflicts: 0 };
  let started: Promise<void> | undefined;

  const lockFor = (file: SinkFile): Pick<PutObjectCommandInput, 'ObjectLockMode' | 'ObjectLockRetainUntilDate' | 'ObjectLockLegalHoldStatus'> => {
    const until = o.retainUntil(file);
    if (!(until instanceof Date) || Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) {
      throw new ConfigError('s3.retainUntil', `must return a Date in the future, got ${String(until)} for ${file.name}`);
    }
    return { ObjectLockMode: o.mode, ObjectLockRetainUntilDate: until, ...(o.legalHold ? { ObjectLockLegalHoldStatus: 'ON' as const } : {}) };
  };

  const put = async (key: string, body: Buffer, sha256: string, file: SinkFile, writeOnce: boolean): Promise<void> => {
    await client.send(
      new PutObjectCommand({
        Bucket: o.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: 'application/x-ndjson',
        // A checksum on every PUT: S3 recomputes it and refuses the object if the bytes differ.
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: sha256,
        ...lockFor(file),
        ...(writeOnce ? { IfNoneMatch: '*' } : {}),
      }),
    );
    stats.objectsPut += 1;
  };

  const head = async (key: string): Promise<HeadObjectCommandOutput | undefined> => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: o.bucket, Key: key, ChecksumMode: 'ENABLED' }));
    } catch (err) {
      if (errorName(err) === 'NotFound' || errorName(err) === 'NoSuchKey' || httpStatus(err) === 404) return undefined;
      throw err;
    }
  };

  const isPreconditionFailed = (err: unknown): boolean => errorName(err) === 'PreconditionFailed' || httpStatus(err) === 412;

  /** A sealed segment never changes: write once; a resend finds its own bytes there and stops. */
  const putSegment = async (file: SinkFile, key: string, body: Buffer, sha256: string): Promise<PutOutcome> => {
    try {
      await put(key, body, sha256, file, true);
      return 'put';
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
    const existing = await head(key);
    if (existing?.ChecksumSHA256 === sha256) return 'already-stored';
    // Other bytes under a sealed segment's name: the local file changed after it was shipped (or another
    // writer shares the prefix). Both are evidence: keep the stored object, add ours beside it, and say so.
    const hex = Buffer.from(sha256, 'base64').toString('hex');
    const aside = conflictKey(key, hex);
    try {
      await put(aside, body, sha256, file, true);
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
    }
    stats.conflicts += 1;
    o.onError(
      new Error(
        `${o.name}: s3://${o.bucket}/${key} already holds different bytes (sha256 ${existing?.ChecksumSHA256 ?? 'unknown'}, local ${sha256}); ` +
          `the stored object was kept and the local file was stored as ${aside}. A sealed segment should never change: investigate.`,
      ),
    );
    return 'conflict';
  };

  /** A checkpoint file grows; each snapshot is a new version of one key (older versions stay locked). */
  const putCheckpoints = async (file: SinkFile, key: string, body: Buffer, sha256: string): Promise<PutOutcome> => {
    const existing = await head(key);
    if (existing?.ChecksumSHA256 === sha256) return 'already-stored';
    // A longer snapshot is already there (a late resend of an older one): do not make the older the latest.
    if (existing && (existing.ContentLength ?? 0) > body.length) return 'already-stored';
    await put(key, body, sha256, file, false);
    return 'put';
  };

  const upload = async (file: SinkFile): Promise<void> => {
    const body = await readExactly(file.path, file.bytes);
    const sha256 = createHash('sha256').update(body).digest('base64');
    const key = objectKey(o.prefix, file.name);
    const outcome = file.kind === 'segment' ? await putSegment(file, key, body, sha256) : await putCheckpoints(file, key, body, sha256);
    if (outcome === 'already-stored') stats.alreadyStored += 1;
  };

  /** AWS and network errors get a message naming the file and key (and no credential); others pass as they are. */
  const wrap = (file: SinkFile, err: unknown): Error => {
    if (err instanceof ConfigError || err instanceof AwsSinkError) return err;
    if (typeof err === 'object' && err !== null && ('$metadata' in err || isTransient(err))) {
      return new AwsSinkError(`S3 upload of ${file.name} to s3://${o.bucket}/${objectKey(o.prefix, file.name)}`, err, {
        secrets,
        ...(isThrottling(err) ? { retryAfterMs: o.throttleRetryMs } : {}),
      });
    }
    return err instanceof Error ? err : new Error(String(err));
  };

  return {
    name: o.name,
    accepts: 'files',
    maxBatch: 16,
    stats,

    start() {
      started ??= assertObjectLock(client, o.bucket, secrets).catch((err: unknown) => {
        started = undefined;
        throw err;
      });
      return started;
    },

    async write(batch: SinkBatch): Promise<SinkWriteResult> {
      if (batch.type !== 'files') throw new TypeError(`${o.name} accepts files, not ${batch.type}`);
      const files = batch.files;
      const errors: (Error | undefined)[] = new Array(files.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < files.length) {
          const i = next++;
          try {
            await upload(files[i]!);
          } catch (err) {
            errors[i] = wrap(files[i]!, err);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency, files.length) }, worker));
      const failed = files.map((_, i) => i).filter((i) => errors[i] !== undefined);
      if (failed.length === 0) return {};
      const throttled = failed.some((i) => (errors[i] as { retryAfterMs?: number }).retryAfterMs !== undefined);
      // Nothing went through: a whole-batch failure, thrown so the engine backs off.
      if (failed.length === files.length) throw errors[0]!;
      for (const i of failed) o.onError(errors[i]!);
      return throttled ? { failed, retryAfterMs: o.throttleRetryMs } : { failed };
    },

    async flush() {
      // Nothing is buffered in the sink: write() returns once S3 has answered for every file.
    },

    async close() {
      if (ownsClient) client.destroy();
    },
  };
}
