import { DescribeDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { Sink, SinkBatch, SinkRecord, SinkWriteResult } from '@querytrail/core';
import { ConfigError } from '@querytrail/core';
import { AwsSinkError, credentialValues, errorName, isThrottling, requestHandlerSettings } from './aws-errors.js';
import { MAX_BYTES_PER_CALL, MAX_RECORD_BYTES, MAX_RECORDS_PER_CALL, planCalls } from './limits.js';
import { type FirehoseSinkOptions, resolveFirehoseOptions } from './options.js';
import { oversizeNotice } from './oversize.js';

/** What the sink has done so far (for health checks and tests). */
export interface FirehoseSinkStats {
  /** Records Firehose accepted (a resent record counts each time). */
  recordsAccepted: number;
  /** Records Firehose answered with a per-record error (FailedPutCount); each was resent. */
  recordsFailed: number;
  /** PutRecordBatch calls made, failed ones included. */
  calls: number;
  /** Lines over the 1,000 KiB record limit, replaced in the stream by an oversize notice (again on each resend). */
  oversized: number;
}

export interface FirehoseSink extends Sink {
  readonly accepts: 'records';
  readonly stats: Readonly<FirehoseSinkStats>;
}

/**
 * Ships journal lines to Amazon Data Firehose, one record per line (the line plus '\n', so that the
 * objects Firehose writes to S3 are JSON lines). Each write becomes as few PutRecordBatch calls as
 * the limits allow; records Firehose reports as failed are returned by index, so only they are resent.
 */
export function firehoseSink(options: FirehoseSinkOptions): FirehoseSink {
  const o = resolveFirehoseOptions(options);
  const secrets = credentialValues(options.clientConfig);
  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new FirehoseClient({
      // One attempt per call: the delivery engine retries with backoff and jitter, resending only failures.
      maxAttempts: 1,
      ...options.clientConfig,
      requestHandler: requestHandlerSettings(options.clientConfig?.requestHandler, o.requestTimeoutMs) as never,
    });
  const stats: FirehoseSinkStats = { recordsAccepted: 0, recordsFailed: 0, calls: 0, oversized: 0 };
  const what = `Firehose PutRecordBatch to "${o.deliveryStreamName}"`;

  /** The bytes to send for each record; a line over the record limit is replaced by a notice. */
  const encode = (records: readonly SinkRecord[]): Buffer[] =>
    records.map((r) => {
      const data = Buffer.from(`${r.line}\n`, 'utf8');
      if (data.length <= MAX_RECORD_BYTES) return data;
      stats.oversized += 1;
      o.onError(
        new Error(
          `${o.name}: journal line ${r.dedupId} of ${r.file} is ${data.length} bytes, over the Firehose record limit of ${MAX_RECORD_BYTES}; ` +
            'a querytrail.sink.oversize/1 notice with its record_hash was sent in its place (the line itself stays in the journal and in file sinks)',
        ),
      );
      return Buffer.from(`${JSON.stringify(oversizeNotice(o.name, r, data.length, MAX_RECORD_BYTES))}\n`, 'utf8');
    });

  const sendCall = async (data: readonly Buffer[]): Promise<{ failed: number[]; throttled: boolean }> => {
    stats.calls += 1;
    const out = await client.send(new PutRecordBatchCommand({ DeliveryStreamName: o.deliveryStreamName, Records: data.map((d) => ({ Data: d })) }));
    const failed: number[] = [];
    let throttled = false;
    if ((out.FailedPutCount ?? 0) > 0) {
      const responses = out.RequestResponses ?? [];
      for (let i = 0; i < data.length; i++) {
        const code = responses[i]?.ErrorCode;
        // A missing entry is counted as failed: resending is safe (dedup by event_id), losing is not.
        if (code !== undefined || responses[i] === undefined) {
          failed.push(i);
          if (code === 'ServiceUnavailableException' || code === 'ThrottlingException') throttled = true;
        }
      }
    }
    stats.recordsFailed += failed.length;
    stats.recordsAccepted += data.length - failed.length;
    return { failed, throttled };
  };

  return {
    name: o.name,
    accepts: 'records',
    maxBatch: MAX_RECORDS_PER_CALL,
    maxBatchBytes: MAX_BYTES_PER_CALL,
    stats,

    async start() {
      if (!o.checkStream) return;
      try {
        const d = await client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: o.deliveryStreamName }));
        const status = d.DeliveryStreamDescription?.DeliveryStreamStatus;
        if (status === 'DELETING') throw new ConfigError('firehose.deliveryStreamName', `stream "${o.deliveryStreamName}" is being deleted`);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        if (errorName(err) === 'ResourceNotFoundException') {
          throw new ConfigError('firehose.deliveryStreamName', `stream "${o.deliveryStreamName}" does not exist in this account and region`, { cause: err });
        }
        // Not allowed to describe (only firehose:PutRecordBatch granted) or a transient failure:
        // writes will tell; start does not refuse on what it could not check.
      }
    },

    async write(batch: SinkBatch): Promise<SinkWriteResult> {
      if (batch.type !== 'records') throw new TypeError(`${o.name} accepts records, not ${batch.type}`);
      const data = encode(batch.records);
      const failed: number[] = [];
      let throttled = false;
      let accepted = false;
      const calls = planCalls(data.map((d) => d.length));
      for (let c = 0; c < calls.length; c++) {
        const [start, end] = calls[c]!;
        try {
          const res = await sendCall(data.slice(start, end));
          for (const i of res.failed) failed.push(start + i);
          if (res.failed.length < end - start) accepted = true;
          throttled ||= res.throttled;
        } catch (err) {
          const throttle = isThrottling(err);
          const error = new AwsSinkError(what, err, { secrets, ...(throttle ? { retryAfterMs: o.throttleRetryMs } : {}) });
          // Nothing taken yet: a whole-batch failure, the engine backs off and resends it all.
          if (!accepted) throw error;
          // Earlier calls were taken: report only what was not, so only that is resent.
          for (let i = start; i < data.length; i++) failed.push(i);
          o.onError(error);
          return throttle ? { failed, retryAfterMs: o.throttleRetryMs } : { failed };
        }
      }
      if (failed.length === 0) return {};
      return throttled ? { failed, retryAfterMs: o.throttleRetryMs } : { failed };
    },

    async flush() {
      // Nothing is buffered in the sink: each write() returns once Firehose has answered.
    },

    async close() {
      if (ownsClient) client.destroy();
    },
  };
}
