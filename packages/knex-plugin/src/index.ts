export { instrumentKnex } from './instrument.js';
export type { DriverInstrumenter, KnexLike } from './types.js';
