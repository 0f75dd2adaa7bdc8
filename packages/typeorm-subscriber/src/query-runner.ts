import { type Auditor, runWithContext } from '@querytrail/core';
import { dropRefusal } from './refusal.js';
import { statementOrm } from './statement-context.js';
import type { TypeormState } from './state.js';
import type { QueryRunnerLike } from './types.js';

const kWrapped = Symbol.for('querytrail.typeorm.queryRunner');
const readyAuditors = new WeakSet<Auditor>();

/**
 * Every statement TypeORM sends goes through QueryRunner.query or .stream. Those calls run inside
 * runWithContext({ orm }), so the driver wrapper (the one record) reads the entity and operation
 * where the statement is handed to the driver. A subscriber cannot do this: beforeQuery is a call,
 * not a wrapper, and setting the context from it would need enterWith().
 * With `context: false` only `query` is wrapped, to forget an early refusal TypeORM did not deliver.
 */
export function wrapQueryRunner<R extends QueryRunnerLike>(state: TypeormState, runner: R): R {
  const marked = runner as R & { [kWrapped]?: true };
  if (marked[kWrapped]) return runner;
  const query = runner.query;
  const stream = runner.stream;
  runner.query = function (this: QueryRunnerLike, sql: string, ...rest: unknown[]) {
    const send = () => (query as (...a: unknown[]) => Promise<unknown>).call(this, sql, ...rest);
    const sent = state.context ? withStatementContext(state, sql, send) : send();
    // A refusal the subscriber queued is consumed when TypeORM calls the connection; if TypeORM never
    // did (another subscriber threw), it must not refuse a later statement.
    return sent.finally(() => dropRefusal(this.databaseConnection, sql, rest[0]));
  };
  if (state.context) {
    runner.stream = function (this: QueryRunnerLike, sql: string, ...rest: unknown[]) {
      return withStatementContext(state, sql, () => (stream as (...a: unknown[]) => Promise<unknown>).call(this, sql, ...rest));
    };
  }
  Object.defineProperty(runner, kWrapped, { value: true });
  return runner;
}

function withStatementContext<T>(state: TypeormState, sql: string, send: () => Promise<T>): Promise<T> {
  const auditor = state.auditor;
  if (!readyAuditors.has(auditor)) {
    // The entity comes from the SQL analysis: wait for the parsers once (the driver would wait too
    // when a policy is set), rather than put a guess in the context.
    return auditor.ready().then(() => {
      readyAuditors.add(auditor);
      return withStatementContext(state, sql, send);
    });
  }
  return runWithContext({ orm: statementOrm(state, sql) }, send);
}
