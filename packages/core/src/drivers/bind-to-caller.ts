import { AsyncResource } from 'node:async_hooks';

/**
 * Runs `fn` later in the async context of the caller (every AsyncLocalStorage: ours, OpenTelemetry's,
 * the app's). Same effect as AsyncResource.bind, without its per-call cost on Node 20, where bind()
 * also installs deprecated property accessors on each bound function.
 */
// biome-ignore lint/suspicious/noExplicitAny: a callback of any shape keeps its own signature.
export function bindToCaller<F extends (...args: any[]) => unknown>(fn: F): F {
  const scope = new AsyncResource('querytrail.callback');
  return ((...args: unknown[]) => scope.runInAsyncScope(fn, undefined, ...args)) as F;
}
