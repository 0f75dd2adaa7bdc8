import { type OrmInfo, QueryBlockedError } from '@querytrail/core';

/**
 * The error an early refusal fails with: a QueryBlockedError whose message names the entity and the
 * operation, so the developer sees which call was refused. TypeORM wraps it as it wraps any driver
 * error (refusal.ts): a QueryFailedError of the application's own TypeORM whose `driverError` is this
 * error (TypeORM copies its `code`, QT_ERR_POLICY_BLOCKED, onto the QueryFailedError).
 */
export function blockedQueryError(recorded: QueryBlockedError, orm: OrmInfo | undefined): QueryBlockedError {
  const what = [orm?.model, orm?.operation].filter((s) => s !== undefined).join(' ');
  const hint = recorded.ruleId === 'destructive' ? '; allowed inside a change window, with an approval, or by break-glass' : '';
  const reason = `${what ? `TypeORM ${what}: ` : ''}${recorded.reason}${hint}`;
  return new QueryBlockedError(reason, { ...(recorded.ruleId === undefined ? {} : { ruleId: recorded.ruleId }), cause: recorded });
}
