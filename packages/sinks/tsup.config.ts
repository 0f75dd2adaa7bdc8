import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per subpath export, so an app loads only the sink it uses.
  entry: {
    'file/index': 'src/file/index.ts',
    'stdout/index': 'src/stdout/index.ts',
    'otel/index': 'src/otel/index.ts',
    'nats/index': 'src/nats/index.ts',
    'ocsf/index': 'src/ocsf/index.ts',
    'firehose/index': 'src/firehose/index.ts',
    's3/index': 'src/s3/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@querytrail/core', 'nats', '@opentelemetry/api-logs', '@aws-sdk/client-firehose', '@aws-sdk/client-s3'],
});
