/**
 * Alerts: what the policy reports to `onAlert` hooks and, as the proposed `policy.alert` event, to the
 * trail. Hooks run off the query path (setImmediate), each isolated: a hook that throws is counted and
 * ignored; a hook that hangs is abandoned after `timeoutMs`; when more than `maxPending` alerts wait,
 * new ones are dropped and counted (never unbounded memory). No query ever waits for a hook.
 */
import type { QuerytrailEvent } from '../event/types.js';

export type AlertKind = 'block' | 'would_block' | 'override' | 'rule' | 'sensitive_read' | 'bulk_read';
export type AlertSeverity = 'low' | 'medium' | 'high' | 'critical';

/** The `alert` field of a `policy.alert` event (snake_case, like every event field). */
export interface AlertInfo {
  kind: AlertKind;
  rule_id: string;
  reason: string;
  severity: AlertSeverity;
  mode: 'enforce' | 'monitor';
  /** `${actor.type}:${actor.id}` when the statement had an actor. */
  actor_key?: string;
  /** Bulk-read alerts: which threshold was reached. */
  bulk?: {
    scope: 'statement' | 'actor';
    action: 'alert' | 'block';
    rows: number;
    threshold: number;
    window_seconds?: number;
    /** Until when the actor's next statements are blocked (RFC 3339), for action 'block'. */
    blocked_until?: string;
    objects: string[];
  };
}

/**
 * Proposed event (the lead adds 'policy.alert' to EventType and docs/event.schema.json): the usual
 * actor, request, trace, db, statement, objects, sensitivity and policy fields of the statement that
 * caused it, plus `alert` (AlertInfo) and `statement_event_id` (the db.query / db.query.blocked event
 * it is about, when there is one).
 */
export type PolicyAlertEvent = Omit<QuerytrailEvent, 'type'> & { type: 'policy.alert'; alert: AlertInfo; statement_event_id?: string };

export type AlertHook = (alert: AlertInfo, event: Readonly<Record<string, unknown>> | undefined) => void | Promise<void>;

export interface AlertHookStats {
  dispatched: number;
  completed: number;
  failed: number;
  timedOut: number;
  dropped: number;
  pending: number;
}

export interface AlertHookRunner {
  /** Schedules every hook for this alert and returns at once. Never throws. */
  dispatch(alert: AlertInfo, event?: Readonly<Record<string, unknown>>): void;
  /** Resolves when every scheduled hook has finished, failed or timed out (for close() and tests). */
  idle(): Promise<void>;
  stats(): AlertHookStats;
}

export interface AlertHookRunnerOptions {
  /** A hook whose promise has not settled after this long is abandoned (counted in timedOut). Default 5000. */
  timeoutMs?: number;
  /** Hook invocations waiting or running at most; more are dropped (counted). Default 1000. */
  maxPending?: number;
  /** Told about a hook that threw, rejected or timed out. Itself isolated. */
  onHookError?: (error: unknown, alert: AlertInfo) => void;
}

export function createAlertHookRunner(hooks: readonly AlertHook[], options: AlertHookRunnerOptions = {}): AlertHookRunner {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxPending = options.maxPending ?? 1000;
  const stats: AlertHookStats = { dispatched: 0, completed: 0, failed: 0, timedOut: 0, dropped: 0, pending: 0 };
  let waiters: (() => void)[] = [];
  /** Timers of hooks still running: unref'd (a hanging hook never holds the process), ref'd while someone awaits idle(). */
  const timers = new Set<NodeJS.Timeout>();
  let awaited = false;

  const report = (error: unknown, alert: AlertInfo): void => {
    try {
      options.onHookError?.(error, alert);
    } catch {
      // isolated as well
    }
  };
  const settle = (): void => {
    stats.pending--;
    if (stats.pending === 0 && waiters.length > 0) {
      const w = waiters;
      waiters = [];
      awaited = false;
      for (const f of w) f();
    }
  };

  const runOne = (hook: AlertHook, alert: AlertInfo, event: Readonly<Record<string, unknown>> | undefined): void => {
    let result: unknown;
    try {
      result = hook(alert, event);
    } catch (err) {
      stats.failed++;
      report(err, alert);
      settle();
      return;
    }
    if (!result || typeof (result as PromiseLike<unknown>).then !== 'function') {
      stats.completed++;
      settle();
      return;
    }
    let done = false;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (done) return;
      done = true;
      stats.timedOut++;
      report(new Error(`onAlert hook did not settle within ${timeoutMs} ms`), alert);
      settle();
    }, timeoutMs);
    if (!awaited) timer.unref();
    timers.add(timer);
    Promise.resolve(result as PromiseLike<unknown>).then(
      () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        timers.delete(timer);
        stats.completed++;
        settle();
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        timers.delete(timer);
        stats.failed++;
        report(err, alert);
        settle();
      },
    );
  };

  return {
    dispatch(alert, event) {
      for (const hook of hooks) {
        if (stats.pending >= maxPending) {
          stats.dropped++;
          continue;
        }
        stats.dispatched++;
        stats.pending++;
        setImmediate(() => runOne(hook, alert, event));
      }
    },
    idle() {
      if (stats.pending === 0) return Promise.resolve();
      awaited = true;
      for (const t of timers) t.ref();
      return new Promise((resolve) => waiters.push(resolve));
    },
    stats: () => ({ ...stats }),
  };
}
