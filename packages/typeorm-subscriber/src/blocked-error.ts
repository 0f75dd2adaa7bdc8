import { type OrmInfo, QueryBlockedError } from '@querytrail/core';
import { QueryFailedError } from 'typeorm';

/**
 * A block as TypeORM reports any failed statement: a QueryFailedError whose `driverError` is our
 * QueryBlockedError (TypeORM copies its `code`, QT_ERR_POLICY_BLOCKED, onto the QueryFailedError).
 * The message names the entity and the operation, so the developer sees which call was refused.
 */
export function blockedQueryError(query: string, parameters: unknown, recorded: QueryBlockedError, orm: OrmInfo | undefined): QueryFailedError {
  const what = [orm?.model, orm?.operation].filter((s) => s !== undefined).join(' ');
  const hint = recorded.ruleId === 'destructive' ? '; allowed inside a change window, with an approval, or by break-glass' : '';
  const reason = `${what ? `TypeORM ${what}: ` : ''}${recorded.reason}${hint}`;
  const friendly = new QueryBlockedError(reason, { ...(recorded.ruleId === undefined ? {} : { ruleId: recorded.ruleId }), cause: recorded });
  return new QueryFailedError(query, parameters as unknown[] | undefined, friendly);
}
