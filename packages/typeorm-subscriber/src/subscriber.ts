import { currentContext, QueryBlockedError, QuerytrailError } from '@querytrail/core';
import type { EntitySubscriberInterface } from 'typeorm';
import { blockedQueryError } from './blocked-error.js';
import { dbInfoOf } from './db-info.js';
import { refuseOnConnection } from './refusal.js';
import { stateOf } from './state.js';
import type { QueryEventLike } from './types.js';

/**
 * TypeORM subscriber (beforeQuery / afterQuery, TypeORM 0.3.18+ and 1.x). It refuses, before the
 * driver is called, a statement the policy blocks, with a message that names the entity and the
 * operation; the refusal is recorded once, through the auditor, as `db.query.blocked`. Statements it
 * lets through are recorded by the driver wrapper only: the subscriber never writes a second record.
 *
 * The refusal does not throw from beforeQuery (TypeORM would pass that error on unwrapped): it is
 * handed to the connection TypeORM calls next (refusal.ts), so the caller gets a QueryFailedError of
 * its own TypeORM copy, whatever copy this package would import.
 *
 * beforeQuery is synchronous on purpose: 0.3.18 to 0.3.22 do not await a promise from it before the
 * query is sent (typeorm#11085).
 */
export class QuerytrailSubscriber implements EntitySubscriberInterface {
  beforeQuery(event: QueryEventLike): void {
    const state = stateOf(event.dataSource ?? event.connection);
    const policy = state?.policy;
    if (!state || !policy) return;
    const type = state.dataSource.options.type;
    const connection = event.queryRunner?.databaseConnection;
    // No connection to hand the refusal to (nothing TypeORM 0.3.18+ / 1.x does): the driver decides.
    if (typeof connection !== 'object' || connection === null || typeof (connection as { query?: unknown }).query !== 'function') return;
    const db = dbInfoOf(type, connection);
    const params = Array.isArray(event.parameters) ? event.parameters : undefined;
    const context = currentContext();
    let decision: ReturnType<typeof policy.decide>;
    try {
      const analysis = state.auditor.analyze(event.query, db);
      decision = policy.decide({ analysis, context, db, service: state.auditor.source.service, now: Date.now(), paramCount: params?.length });
    } catch {
      return; // the driver decides and records; an early check never breaks a query on its own
    }
    if (decision.action !== 'block') return;
    // The auditor decides again and writes the one db.query.blocked record (the driver never sees it).
    let recorded: QueryBlockedError;
    try {
      const handle = state.auditor.begin({ text: event.query, params, db, connection });
      // Allowed after all (a window opened between the two decisions): withdraw it, recorded as failed.
      recorded = new QueryBlockedError('withdrawn: the policy decision changed between the early check and sending; retry');
      handle.fail(recorded);
    } catch (err) {
      if (!(err instanceof QuerytrailError)) throw err;
      recorded = err instanceof QueryBlockedError ? err : new QueryBlockedError(err.message, { cause: err });
    }
    const kind = type === 'postgres' ? 'pg' : 'mysql2';
    refuseOnConnection(connection, kind, event.query, event.parameters, blockedQueryError(recorded, context?.orm));
  }

  /** Nothing to do: the driver wrapper records the outcome (rows, duration, error code). */
  afterQuery(): void {}
}
