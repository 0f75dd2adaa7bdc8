import type { AuditContext } from './types.js';
import { runWithContext } from './store.js';

/** Minimal structural shapes: core never imports Express or Fastify. */
export interface HttpRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  ip?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string | undefined } | undefined;
  routeOptions?: { url?: string | undefined } | undefined;
  id?: string | number | undefined;
}

/** Maps an incoming request to the actor and request behind it; the app owns authentication. */
export type ContextResolver<Req = HttpRequestLike> = (
  req: Req,
) => AuditContext | undefined | Promise<AuditContext | undefined>;

function header(req: HttpRequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** What every HTTP request carries, before the app adds its actor. */
export function requestDefaults(req: HttpRequestLike): AuditContext {
  const id = header(req, 'x-request-id') ?? (req.id === undefined ? undefined : String(req.id));
  const ua = header(req, 'user-agent');
  const ip = req.ip ?? req.socket?.remoteAddress;
  return {
    request: {
      ...(id === undefined ? {} : { id }),
      ...(req.method === undefined ? {} : { method: req.method }),
      ...(ip === undefined ? {} : { client_ip: ip }),
      ...(ua === undefined ? {} : { user_agent: ua }),
    },
  };
}

function mergeRequest(base: AuditContext, resolved: AuditContext | undefined): AuditContext {
  if (!resolved) return base;
  return { ...base, ...resolved, request: { ...base.request, ...resolved.request } };
}

type Next = (err?: unknown) => void;

/** Express (4 and 5) middleware: every statement sent while handling the request carries its context. */
export function expressMiddleware<Req extends HttpRequestLike = HttpRequestLike>(resolve?: ContextResolver<Req>) {
  return (req: Req, _res: unknown, next: Next): void => {
    const base = requestDefaults(req);
    let resolved: ReturnType<ContextResolver>;
    try {
      resolved = resolve ? resolve(req) : undefined;
    } catch (err) {
      next(err);
      return;
    }
    if (resolved && typeof (resolved as Promise<unknown>).then === 'function') {
      (resolved as Promise<AuditContext | undefined>).then(
        (ctx) => runWithContext(mergeRequest(base, ctx), () => next()),
        (err: unknown) => next(err),
      );
      return;
    }
    runWithContext(mergeRequest(base, resolved as AuditContext | undefined), () => next());
  };
}

export interface FastifyLike {
  addHook(
    name: 'onRequest',
    hook: (req: HttpRequestLike, reply: unknown, done: (err?: Error) => void) => void,
  ): unknown;
}

/**
 * Fastify plugin (4 and 5). It sets the context in onRequest with run(), as @fastify/request-context
 * does, and skips plugin encapsulation so it applies to every route.
 */
export function fastifyPlugin<Req extends HttpRequestLike = HttpRequestLike>(resolve?: ContextResolver<Req>) {
  const plugin = (fastify: FastifyLike, _opts: unknown, done: (err?: Error) => void): void => {
    fastify.addHook('onRequest', (req, _reply, hookDone) => {
      const base = requestDefaults(req);
      const route = req.routeOptions?.url;
      if (route && base.request) base.request.route = route;
      let resolved: ReturnType<ContextResolver>;
      try {
        resolved = resolve ? resolve(req as Req) : undefined;
      } catch (err) {
        hookDone(err as Error);
        return;
      }
      Promise.resolve(resolved).then(
        (ctx) => runWithContext(mergeRequest(base, ctx), () => hookDone()),
        (err: unknown) => hookDone(err as Error),
      );
    });
    done();
  };
  Object.defineProperty(plugin, Symbol.for('skip-override'), { value: true });
  Object.defineProperty(plugin, Symbol.for('fastify.display-name'), { value: 'querytrail' });
  return plugin;
}
