import type {
  IsolationLevel,
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  SqlQuery,
  SqlResultSet,
  Transaction,
} from '@prisma/driver-adapter-utils';
import { type Auditor, currentContext, QuerytrailError, runWithContext } from '@querytrail/core';
import { instrumentDriver } from './instrument-driver.js';

export interface WithQuerytrailOptions {
  /** Instrument `adapter.underlyingDriver()` on connect. Default true (idempotent either way). */
  instrumentDriver?: boolean;
}

/**
 * Statements Prisma sends outside any model call (transaction control, the adapter's own queries)
 * still say they came from Prisma. A context that already names an ORM operation is left alone.
 */
function inPrisma<T>(operation: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (currentContext()?.orm !== undefined) return fn();
  return runWithContext({ orm: { name: 'prisma', ...(operation === undefined ? {} : { operation }) } }, fn);
}

/**
 * An adapter may wrap a driver error in its own type; a querytrail refusal goes back to Prisma as
 * itself, which Prisma turns into a PrismaClientKnownRequestError with `code` QT_ERR_POLICY_BLOCKED.
 */
function surface(error: unknown): never {
  let e: unknown = error;
  for (let i = 0; i < 3 && e !== undefined && e !== null; i++) {
    if (e instanceof QuerytrailError) throw e;
    e = (e as { cause?: unknown }).cause;
  }
  throw error;
}

function queryable<Q extends { queryRaw(q: SqlQuery): Promise<SqlResultSet>; executeRaw(q: SqlQuery): Promise<number> }>(
  target: Q,
  operation?: string,
): Pick<Q, 'queryRaw' | 'executeRaw'> {
  return {
    queryRaw: (q) => inPrisma(operation, () => target.queryRaw(q)).catch(surface),
    executeRaw: (q) => inPrisma(operation, () => target.executeRaw(q)).catch(surface),
  };
}

/**
 * `target` with some methods replaced; everything else (fields, getters, methods that use private
 * #fields) is read from and called on `target` itself.
 */
function override<T extends object>(target: T, methods: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, key) {
      if (Object.hasOwn(methods, key)) return (methods as Record<PropertyKey, unknown>)[key];
      const value = Reflect.get(t, key, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

function wrapTransaction(tx: Transaction): Transaction {
  const methods: Partial<Record<keyof Transaction, unknown>> = {
    // Outside a model call, statements on a transaction are its control (COMMIT sent as a query).
    ...queryable(tx, '$transaction'),
    commit: () => inPrisma('$transaction', () => tx.commit()).catch(surface),
    rollback: () => inPrisma('$transaction', () => tx.rollback()).catch(surface),
  };
  if (tx.createSavepoint) methods.createSavepoint = (name: string) => inPrisma('$transaction', () => tx.createSavepoint!(name)).catch(surface);
  if (tx.rollbackToSavepoint) methods.rollbackToSavepoint = (name: string) => inPrisma('$transaction', () => tx.rollbackToSavepoint!(name)).catch(surface);
  if (tx.releaseSavepoint) methods.releaseSavepoint = (name: string) => inPrisma('$transaction', () => tx.releaseSavepoint!(name)).catch(surface);
  return override(tx, methods);
}

function wrapAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
  // provider, adapterName, getConnectionInfo, dispose, underlyingDriver stay the adapter's own.
  return override(adapter, {
    ...queryable(adapter),
    executeScript: (script: string) => inPrisma('executeScript', () => adapter.executeScript(script)).catch(surface),
    startTransaction: (isolationLevel?: IsolationLevel) =>
      inPrisma('$transaction', () => adapter.startTransaction(isolationLevel)).then(wrapTransaction, surface),
  });
}

/**
 * Wraps any Prisma 7 driver adapter factory (`new PrismaPg(pool)`, `new PrismaMariaDb(pool)`):
 * on connect it instruments the driver the adapter runs on, where each statement is recorded once,
 * exactly as sent (BEGIN / COMMIT included) and where policy blocks it; the adapter boundary only adds
 * context and hands querytrail refusals back to Prisma intact. Nothing is recorded here.
 *
 *   const adapter = withQuerytrail(new PrismaPg(pool), auditor);
 *   const prisma = new PrismaClient({ adapter }).$extends(querytrailExtension(auditor));
 */
export function withQuerytrail<F extends SqlDriverAdapterFactory>(factory: F, auditor: Auditor, options: WithQuerytrailOptions = {}): F {
  const connect = async (): Promise<SqlDriverAdapter> => {
    const adapter = await factory.connect();
    if (options.instrumentDriver !== false) {
      const driver = (adapter as { underlyingDriver?: () => unknown }).underlyingDriver?.();
      try {
        instrumentDriver(auditor, driver, adapter.adapterName);
      } catch (error) {
        await adapter.dispose();
        throw error;
      }
    }
    return wrapAdapter(adapter);
  };
  return override(factory, { connect } as Partial<Record<keyof F, unknown>>);
}
