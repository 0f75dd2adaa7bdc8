export { firehoseSink, type FirehoseSink, type FirehoseSinkStats } from './firehose-sink.js';
export type { FirehoseSinkOptions } from './options.js';
export { MAX_BYTES_PER_CALL, MAX_RECORD_BYTES, MAX_RECORDS_PER_CALL } from './limits.js';
export { OVERSIZE_SCHEMA, type OversizeNotice } from './oversize.js';
export { AwsSinkError } from './aws-errors.js';
