import type { DriverInstrumenter, KnexClientLike } from './types.js';

/** What instrumentKnex set up for one knex instance. */
export interface KnexState {
  readonly auditor: DriverInstrumenter;
  /** Instruments one raw connection with the driver wrapper (idempotent in core). */
  readonly instrument: (connection: object) => object;
}

/**
 * Keyed by the client's `config` object: knex gives every transaction client the root client's
 * `config` by reference (makeTxClient), while transaction clients are built from the dialect's
 * prototype and so inherit nothing set on the root client instance.
 */
const states = new WeakMap<object, KnexState>();

export function stateOf(client: KnexClientLike | undefined): KnexState | undefined {
  const config = client?.config;
  return config !== null && typeof config === 'object' ? states.get(config) : undefined;
}

export function register(client: KnexClientLike, state: KnexState): void {
  states.set(client.config, state);
}
