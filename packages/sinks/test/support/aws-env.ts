import { CreateDeliveryStreamCommand, FirehoseClient, type FirehoseClientConfig } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { after } from 'node:test';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type MotoServer, startMoto, TEST_CREDENTIALS, TEST_REGION } from './moto.js';

// The AWS SDK warns once per process that future releases need Node 22; it says nothing about these tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface AwsEnv {
  moto: MotoServer;
  /** The fault-injecting proxy in front of moto: sinks talk to this. */
  proxy: FaultProxy;
  /** Client config for a sink: through the proxy, dummy credentials, path-style S3. */
  sinkConfig(requestTimeoutMs?: number): FirehoseClientConfig & S3ClientConfig;
  /** Clients straight to moto (no faults) for setting up and reading back. */
  s3: S3Client;
  firehose: FirehoseClient;
}

/** moto_server + fault proxy for one test file, both stopped when the file ends. */
export async function startAwsEnv(): Promise<AwsEnv> {
  const moto = await startMoto();
  const proxy = await startFaultProxy(moto.endpoint);
  const direct = { endpoint: moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 };
  const s3 = new S3Client(direct);
  const firehose = new FirehoseClient(direct);
  after(() => {
    s3.destroy();
    firehose.destroy();
  });
  return {
    moto,
    proxy,
    sinkConfig: (requestTimeoutMs = 5000) => ({
      endpoint: proxy.endpoint,
      region: TEST_REGION,
      credentials: { ...TEST_CREDENTIALS },
      forcePathStyle: true,
      requestHandler: { requestTimeout: requestTimeoutMs, connectionTimeout: 2000 },
    }),
    s3,
    firehose,
  };
}

export async function createBucket(s3: S3Client, bucket: string, objectLock: boolean): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
}

/** A Direct PUT Firehose stream that delivers to `bucket` under `prefix` (moto writes one object per call). */
export async function createStreamToBucket(env: AwsEnv, stream: string, bucket: string, prefix = 'firehose/'): Promise<void> {
  await createBucket(env.s3, bucket, false);
  await env.firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: stream,
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::123456789012:role/firehose-test', BucketARN: `arn:aws:s3:::${bucket}`, Prefix: prefix },
    }),
  );
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function getBytes(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Every line Firehose delivered to the bucket (each object is the concatenation of one call's records). */
export async function deliveredLines(s3: S3Client, bucket: string, prefix = 'firehose/'): Promise<string[]> {
  const lines: string[] = [];
  for (const key of await listKeys(s3, bucket, prefix)) {
    const text = (await getBytes(s3, bucket, key)).toString('utf8');
    if (text.length > 0 && !text.endsWith('\n')) throw new Error(`${key} does not end with a newline: a record was not newline-delimited`);
    for (const l of text.split('\n')) if (l !== '') lines.push(l);
  }
  return lines;
}
