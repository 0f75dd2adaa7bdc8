import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditContext } from './types.js';

/**
 * One AsyncLocalStorage per process, even when both the ESM and the CJS build of this package
 * are loaded (or two versions): it lives on globalThis under a registered symbol.
 */
const key = Symbol.for('querytrail.context.store/1');
type Holder = { [key]?: AsyncLocalStorage<AuditContext> };
const holder = globalThis as Holder;
export const contextStore: AsyncLocalStorage<AuditContext> = holder[key] ?? new AsyncLocalStorage<AuditContext>();
holder[key] = contextStore;

function freeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) freeze(inner);
  }
  return value;
}

/**
 * Runs `fn` with `context` active for every statement it sends, including across awaits, timers
 * and driver callbacks. Nested calls merge: the inner context overrides the fields it sets.
 */
export function runWithContext<R>(context: AuditContext, fn: () => R): R {
  const outer = contextStore.getStore();
  const merged = outer ? { ...outer, ...context } : { ...context };
  return contextStore.run(freeze(merged), fn);
}

export function currentContext(): AuditContext | undefined {
  return contextStore.getStore();
}
