export { natsSink } from './nats-sink.js';
export type { NatsSinkOptions, NatsStreamOptions } from './options.js';
