import { GetObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '@querytrail/core';
import { AwsSinkError, errorName, httpStatus } from '../firehose/aws-errors.js';

const HOW_TO_FIX =
  'Object Lock is what makes the evidence immutable, so the sink refuses to write without it. ' +
  'Create the bucket with Object Lock (aws s3api create-bucket --bucket <name> --object-lock-enabled-for-bucket), ' +
  'or on an existing versioned bucket run aws s3api put-object-lock-configuration --bucket <name> ' +
  '--object-lock-configuration ObjectLockEnabled=Enabled (docs/sinks-aws.md)';

/**
 * Refuses to run against a bucket that could let shipped evidence be deleted or overwritten: the
 * bucket must have an Object Lock configuration with ObjectLockEnabled=Enabled.
 */
export async function assertObjectLock(client: S3Client, bucket: string, secrets: readonly string[]): Promise<void> {
  let enabled: string | undefined;
  try {
    const out = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    enabled = out.ObjectLockConfiguration?.ObjectLockEnabled;
  } catch (err) {
    const name = errorName(err);
    if (name === 'ObjectLockConfigurationNotFoundError') {
      throw new ConfigError('s3.bucket', `bucket "${bucket}" has no Object Lock configuration. ${HOW_TO_FIX}`, { cause: err });
    }
    if (name === 'NoSuchBucket') throw new ConfigError('s3.bucket', `bucket "${bucket}" does not exist (or is in another region)`, { cause: err });
    if (name === 'AccessDenied' || httpStatus(err) === 403) {
      throw new ConfigError('s3.bucket', `access denied reading the Object Lock configuration of "${bucket}": grant s3:GetBucketObjectLockConfiguration`, { cause: err });
    }
    throw new AwsSinkError(`S3 GetObjectLockConfiguration of "${bucket}"`, err, { secrets });
  }
  if (enabled !== 'Enabled') {
    throw new ConfigError('s3.bucket', `bucket "${bucket}" has no Object Lock configuration (ObjectLockEnabled is ${enabled ?? 'absent'}). ${HOW_TO_FIX}`);
  }
}
