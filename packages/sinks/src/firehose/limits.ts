/**
 * Amazon Data Firehose PutRecordBatch quotas (docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html):
 * at most 500 records and 4 MiB per call, each record at most 1,000 KiB, all measured on the data
 * before base64 encoding.
 */
export const MAX_RECORDS_PER_CALL = 500;
export const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;
export const MAX_RECORD_BYTES = 1000 * 1024;

/**
 * Splits records (by size in bytes) into consecutive calls that respect the per-call limits. Every
 * size must already be at most MAX_RECORD_BYTES. Returns index ranges [start, end).
 */
export function planCalls(sizes: readonly number[], maxRecords = MAX_RECORDS_PER_CALL, maxBytes = MAX_BYTES_PER_CALL): [number, number][] {
  const calls: [number, number][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!;
    if (i > start && (i - start >= maxRecords || bytes + size > maxBytes)) {
      calls.push([start, i]);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < sizes.length) calls.push([start, sizes.length]);
  return calls;
}
