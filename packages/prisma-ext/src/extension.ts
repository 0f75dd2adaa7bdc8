import { type AuditContext, type Auditor, currentContext, type DbInfo, type OrmInfo, QueryBlockedError, runWithContext } from '@querytrail/core';
import { prismaBlockedError } from './blocked-error.js';
import { nowRfc3339, uuidv7 } from './event-ids.js';
import { keepRequestScopes } from './request-scopes.js';
import { unfilteredBulk } from './unfiltered.js';

export interface QuerytrailExtensionOptions {
  /** Refuse deleteMany / updateMany without a where clause before any SQL is built. Default true. */
  blockUnfilteredBulk?: boolean;
}

interface OperationParams {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => PromiseLike<unknown>;
}

interface ExtensibleClient {
  $extends(extension: object): unknown;
  _clientVersion?: string;
  _engineConfig?: { activeProvider?: string; adapter?: { adapterName?: string } };
}

/** The database of a model-level block: no connection was involved, so only what the client knows. */
function dbOf(client: ExtensibleClient): DbInfo {
  const config = client._engineConfig;
  if (/mariadb/.test(config?.adapter?.adapterName ?? '')) return { system: 'mariadb', driver: 'prisma' };
  return { system: config?.activeProvider === 'postgresql' ? 'postgresql' : 'mysql', driver: 'prisma' };
}

const RULE_ID = 'prisma.unfiltered-bulk';

/** Model × operation pairs are few; past this many (never in practice) orm objects are not kept. */
const ORM_CACHE_MAX = 1000;

/**
 * The same frozen orm object for every call of a model and operation: the journal reuses the JSON of
 * an orm object it sees again (by identity), and runWithContext does not walk an object already frozen.
 */
function ormCache(): (model: string | undefined, operation: string) => OrmInfo {
  const byKey = new Map<string, OrmInfo>();
  return (model, operation) => {
    const key = model === undefined ? operation : `${model}\u0000${operation}`;
    let orm = byKey.get(key);
    if (orm === undefined) {
      orm = Object.freeze({ name: 'prisma', ...(model === undefined ? {} : { model }), operation });
      if (byKey.size < ORM_CACHE_MAX) byKey.set(key, orm);
    }
    return orm;
  };
}

/** The db.query.blocked record of a model-level block (no SQL was built, so no statement text). */
function recordBlocked(auditor: Auditor, db: DbInfo, context: AuditContext | undefined, model: string | undefined, operation: string, reason: string): void {
  const command = operation.startsWith('delete') ? 'DELETE' : 'UPDATE';
  auditor.emit({
    schema: 'querytrail.event/1',
    event_id: uuidv7(),
    type: 'db.query.blocked',
    time: nowRfc3339(),
    integrity: undefined,
    source: auditor.source,
    ...(context?.actor ? { actor: context.actor } : {}),
    ...(context?.request ? { request: context.request } : {}),
    db,
    orm: { name: 'prisma', ...(model === undefined ? {} : { model }), operation },
    statement: { class: 'write', command, destructive: true, summary: `${command} ${model ?? ''}`.trim() },
    result: { outcome: 'blocked', error: { code: 'QT_ERR_POLICY_BLOCKED', message: reason } },
    policy: { decision: 'block', mode: 'enforce', rule_id: RULE_ID, reason },
  });
}

/**
 * The Prisma client extension: every operation runs with `orm: { name: 'prisma', model, operation }`
 * in the audit context, taken where the query is executed (Prisma promises are lazy: that is where
 * they are awaited), and kept per call through Prisma's request batching. It records nothing itself:
 * the driver (see withQuerytrail) writes the one record of each statement.
 *
 *   const prisma = new PrismaClient({ adapter }).$extends(querytrailExtension(auditor));
 */
export function querytrailExtension(auditor: Auditor, options: QuerytrailExtensionOptions = {}) {
  const blockBulk = options.blockUnfilteredBulk !== false;
  // Generic in the client: a query-only extension leaves the client's type as it is.
  return <C extends ExtensibleClient>(client: C): C => {
    if (!keepRequestScopes(client)) {
      process.emitWarning('querytrail: this Prisma version batches requests in a way querytrail does not know; merged calls may carry the first caller\'s context', {
        code: 'QT_PRISMA_BATCHING',
      });
    }
    const clientVersion = client._clientVersion ?? 'unknown';
    const db = dbOf(client);
    const ormOf = ormCache();
    return client.$extends({
      name: 'querytrail',
      query: {
        // Not async: the promise runWithContext returns is the one Prisma awaits (one layer fewer).
        $allOperations({ model, operation, args, query }: OperationParams): Promise<unknown> {
          const context = currentContext();
          const reason = blockBulk ? unfilteredBulk(operation, args, context) : undefined;
          if (reason !== undefined) {
            recordBlocked(auditor, db, context, model, operation, reason);
            const blocked = new QueryBlockedError(reason, { ruleId: RULE_ID });
            return Promise.reject(
              prismaBlockedError(blocked, clientVersion, { ...(model === undefined ? {} : { modelName: model }), operation, reason, rule_id: RULE_ID }),
            );
          }
          // Awaited inside: query() returns a lazy PrismaPromise that only runs when awaited.
          return runWithContext({ orm: ormOf(model, operation) }, async () => await query(args));
        },
      },
    }) as C;
  };
}
