import { QuerytrailError } from '@querytrail/core';
import { instrumentCheckouts, instrumentPooled, isolateCreation, wrapDriver } from './connections.js';
import { register, stateOf } from './registry.js';
import { patchClientQuery, patchRunner } from './runner-patch.js';
import type { DriverInstrumenter, KnexClientLike, KnexLike } from './types.js';

function clientOf(knex: KnexLike): KnexClientLike {
  const client = (knex as { client?: unknown } | null)?.client as Partial<KnexClientLike> | undefined;
  if (
    !client ||
    typeof client.config !== 'object' ||
    client.config === null ||
    typeof client.runner !== 'function' ||
    typeof client.query !== 'function' ||
    typeof client.acquireConnection !== 'function'
  ) {
    throw new QuerytrailError('QT_ERR_INVALID_ARGUMENT', 'instrumentKnex: expected a knex 3 instance (the object knex(config) returns)');
  }
  return client as KnexClientLike;
}

/**
 * Instruments a knex instance in place and returns it. Every connection it creates is wrapped by
 * the auditor's pg or mysql2 driver wrapper (the one record of each statement sent), connections it
 * already holds included; every statement runs with `orm: { name: 'knex', operation, model }` in
 * the audit context, transactions and streams included. Calling it again with the same auditor
 * changes nothing.
 */
export function instrumentKnex<K extends KnexLike>(knex: K, auditor: DriverInstrumenter): K {
  const client = clientOf(knex);
  if (client.transacting) {
    throw new QuerytrailError('QT_ERR_INVALID_ARGUMENT', 'instrumentKnex: pass the knex instance, not a transaction (its transactions are covered)');
  }
  const existing = stateOf(client);
  if (existing) {
    if (existing.auditor !== auditor) {
      throw new QuerytrailError('QT_ERR_INVALID_ARGUMENT', 'instrumentKnex: this knex instance is already instrumented by another auditor');
    }
    return knex;
  }
  let instrument: (connection: object) => object;
  if (client.driverName === 'pg') instrument = (c) => auditor.instrumentPg(c);
  else if (client.driverName === 'mysql2') instrument = (c) => auditor.instrumentMysql2(c);
  else {
    throw new QuerytrailError(
      'QT_ERR_INVALID_ARGUMENT',
      `instrumentKnex: knex client '${String(client.driverName)}' is not supported (use client 'pg' or 'mysql2')`,
    );
  }
  register(client, { auditor, instrument });
  patchRunner(client);
  patchClientQuery(client);
  wrapDriver(client, instrument);
  instrumentPooled(client, instrument);
  instrumentCheckouts(client, instrument);
  isolateCreation(client);
  return knex;
}
