export { s3ObjectLockSink, type S3ObjectLockSink, type S3SinkStats } from './s3-sink.js';
export type { ObjectLockMode, S3ObjectLockSinkOptions } from './options.js';
export { conflictKey, objectKey } from './keys.js';
export { AwsSinkError } from '../firehose/aws-errors.js';
