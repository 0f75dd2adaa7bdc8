import { AsyncResource } from 'node:async_hooks';
import { type AuditContext, currentContext, type OrmCaller, runWithContext } from '@querytrail/core';

/**
 * Prisma's DataLoader (RequestHandler.dataloader) batches findUnique calls, and every call of a
 * batch or interactive transaction, and dispatches them in a process.nextTick scheduled by the
 * first call of the tick: left alone, every statement of that tick would run in the first caller's
 * async context, whoever asked. Each request keeps the scope it was made in; a single request runs
 * in its own scope, a merged batch in its first caller's, with `orm.callers` naming every call.
 * A request the loader will not batch (no batch key: most operations outside transactions) runs at
 * once, in its caller's scope, so nothing is kept for it.
 */
interface Loader {
  request(request: object): Promise<unknown>;
  options: {
    singleLoader: (request: object) => Promise<unknown>;
    batchLoader: (requests: object[]) => Promise<unknown>;
    batchBy?: (request: object) => string | undefined;
  };
}

interface Caller {
  readonly scope: AsyncResource;
  readonly context: AuditContext | undefined;
}

const patched = new WeakSet<object>();

function isLoader(value: unknown): value is Loader {
  const v = value as Partial<Loader> | null | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.request === 'function' &&
    typeof v.options?.singleLoader === 'function' &&
    typeof v.options?.batchLoader === 'function'
  );
}

function callerOf(context: AuditContext | undefined): OrmCaller {
  const c: OrmCaller = {};
  if (context?.orm?.model !== undefined) c.model = context.orm.model;
  if (context?.orm?.operation !== undefined) c.operation = context.orm.operation;
  if (context?.actor?.id !== undefined) c.actor_id = context.actor.id;
  if (context?.request?.id !== undefined) c.request_id = context.request.id;
  return c;
}

/** Returns false when this Prisma version has no loader of the expected shape (nothing is patched). */
export function keepRequestScopes(client: object): boolean {
  const loader = (client as { _requestHandler?: { dataloader?: unknown } })._requestHandler?.dataloader;
  if (!isLoader(loader)) return false;
  if (patched.has(loader)) return true;
  patched.add(loader);
  const callers = new WeakMap<object, Caller>();
  const { singleLoader, batchLoader, batchBy } = loader.options;
  const request = loader.request;
  if (typeof batchBy === 'function') {
    // The loader asks for the key right after us: it gets ours instead of computing it twice.
    let keyed: object | undefined;
    let key: string | undefined;
    loader.options.batchBy = function (this: unknown, req: object) {
      if (req === keyed) {
        keyed = undefined;
        return key;
      }
      return batchBy.call(this, req);
    };
    loader.request = function (this: Loader, req: object) {
      key = batchBy.call(loader.options, req);
      keyed = req;
      if (key) callers.set(req, { scope: new AsyncResource('querytrail.prisma.request'), context: currentContext() });
      return request.call(this, req);
    };
  } else {
    loader.request = function (this: Loader, req: object) {
      callers.set(req, { scope: new AsyncResource('querytrail.prisma.request'), context: currentContext() });
      return request.call(this, req);
    };
  }
  loader.options.singleLoader = function (this: unknown, req: object) {
    const caller = callers.get(req);
    return caller ? caller.scope.runInAsyncScope(singleLoader, this, req) : singleLoader.call(this, req);
  };
  loader.options.batchLoader = function (this: unknown, reqs: object[]) {
    const first = reqs[0] === undefined ? undefined : callers.get(reqs[0]);
    if (!first) return batchLoader.call(this, reqs);
    const all = reqs.map((r) => callerOf(callers.get(r)?.context));
    const orm = { ...(first.context?.orm ?? { name: 'prisma' }), callers: all };
    return first.scope.runInAsyncScope(() => runWithContext({ orm }, () => batchLoader.call(this, reqs)));
  };
  return true;
}
