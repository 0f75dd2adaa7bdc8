import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client';
import { QueryBlockedError } from '@querytrail/core';

export interface BlockedMeta {
  modelName?: string;
  operation?: string;
  reason: string;
  rule_id?: string;
}

/**
 * A querytrail block as Prisma's own error type, so `catch (e) { if (e instanceof
 * Prisma.PrismaClientKnownRequestError) ... }` code handles it: `code` is QT_ERR_POLICY_BLOCKED,
 * `meta` says why, `cause` is the QueryBlockedError.
 */
export function prismaBlockedError(blocked: QueryBlockedError, clientVersion: string, meta: BlockedMeta): PrismaClientKnownRequestError {
  const error = new PrismaClientKnownRequestError(blocked.message, { code: blocked.code, clientVersion, meta: { ...meta } });
  Object.defineProperty(error, 'cause', { value: blocked, configurable: true, writable: true });
  return error;
}

export { QueryBlockedError };
