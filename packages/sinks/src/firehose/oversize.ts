import { createHash } from 'node:crypto';
import type { SinkRecord } from '@querytrail/core';

export const OVERSIZE_SCHEMA = 'querytrail.sink.oversize/1' as const;

/**
 * Stands in, in the stream, for a journal line longer than Firehose can carry. Readers that dispatch
 * on `schema` see exactly which record is missing and where to get it: `record_hash` is the SHA-256
 * of the line's bytes, the value the next record of the chain names as its prev_hash, so the gap is
 * provable and the line can be fetched from the journal or the S3 archive and checked against it.
 */
export interface OversizeNotice {
  schema: typeof OVERSIZE_SCHEMA;
  sink: string;
  kind: SinkRecord['kind'];
  dedup_id: string;
  chain_id: string;
  file: string;
  bytes: number;
  limit: number;
  record_hash: string;
}

export function oversizeNotice(sink: string, record: SinkRecord, bytes: number, limit: number): OversizeNotice {
  return {
    schema: OVERSIZE_SCHEMA,
    sink,
    kind: record.kind,
    dedup_id: record.dedupId,
    chain_id: record.chainId,
    file: record.file,
    bytes,
    limit,
    record_hash: createHash('sha256').update(record.line, 'utf8').digest('hex'),
  };
}
