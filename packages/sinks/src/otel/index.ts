export { otelLogsSink, type OtelLogsSinkOptions } from './otel-sink.js';
