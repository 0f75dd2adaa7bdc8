/**
 * Bulk reads of sensitive data: rows returned from sensitive objects, per statement and per actor
 * over a sliding window. Rows are counted as they are read (pg cursors and streams report each batch),
 * so a threshold fires while a large read is still going. A block cannot stop rows already read: it
 * stops the actor's NEXT statements for `blockSeconds` (decide() consults blockedFor()).
 *
 * The window is kept as buckets of windowMs/60 (at least 1 s): memory per actor is bounded, and a
 * bucket counts while any part of it lies in the window (the sum may include up to one bucket of
 * older rows: the conservative side).
 */
import type { AlertInfo } from './alerts.js';
import { iso } from './time.js';

export interface BulkConfig {
  perStatement?: { alert?: number | undefined; block?: number | undefined } | undefined;
  perActor?: { windowSeconds: number; alert?: number | undefined; block?: number | undefined } | undefined;
  blockSeconds: number;
  mode: 'enforce' | 'monitor';
  maxActors: number;
}

export interface BulkBlock {
  readonly rule_id: 'bulk.per_statement' | 'bulk.per_actor';
  readonly reason: string;
  readonly until: number;
  readonly mode: 'enforce' | 'monitor';
}

interface ActorState {
  buckets: number[]; // [start, rows, start, rows, ...], oldest first
  sum: number;
  alerted: boolean;
  blockedAbove: boolean;
  block: BulkBlock | undefined;
}

/** One statement's running count (statement-level thresholds fire at most once each). */
export interface BulkStatementCounter {
  readonly rows: number;
  /** Adds rows just read; returns the alerts this crossed (usually none). Never throws. */
  add(rows: number, now?: number): AlertInfo[];
}

const NONE: AlertInfo[] = [];

export class BulkReadTracker {
  private readonly actors = new Map<string, ActorState>();
  private readonly windowMs: number;
  private readonly bucketMs: number;

  constructor(
    private readonly config: BulkConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.windowMs = (config.perActor?.windowSeconds ?? 0) * 1000;
    this.bucketMs = Math.max(1000, Math.floor(this.windowMs / 60));
  }

  get enabled(): boolean {
    return this.config.perStatement !== undefined || this.config.perActor !== undefined;
  }

  /** The block in force for this actor at `now`, if any. */
  blockedFor(actorKey: string | undefined, now: number = this.clock()): BulkBlock | undefined {
    if (actorKey === undefined) return undefined;
    const s = this.actors.get(actorKey);
    const b = s?.block;
    if (!b) return undefined;
    if (now >= b.until) {
      s.block = undefined;
      return undefined;
    }
    return b;
  }

  /** Rows the actor read from sensitive objects within the window ending at `now`. */
  windowRows(actorKey: string, now: number = this.clock()): number {
    const s = this.actors.get(actorKey);
    if (!s) return 0;
    this.prune(s, now);
    return s.sum;
  }

  /** Starts counting one statement that reads sensitive `objects`. */
  statement(actorKey: string | undefined, objects: readonly string[]): BulkStatementCounter {
    let total = 0;
    let alerted = false;
    let blocked = false;
    const self = this;
    return {
      get rows() {
        return total;
      },
      add(rows: number, now?: number): AlertInfo[] {
        if (!(rows > 0) || !Number.isFinite(rows)) return NONE;
        const t = now ?? self.clock();
        total += rows;
        let out: AlertInfo[] = NONE;
        const ps = self.config.perStatement;
        if (ps) {
          if (ps.block !== undefined && !blocked && total >= ps.block) {
            blocked = true;
            alerted = true;
            out = [self.blockAlert('statement', actorKey, objects, total, ps.block, t)];
          } else if (ps.alert !== undefined && !alerted && total >= ps.alert) {
            alerted = true;
            out = [self.alert('statement', 'alert', actorKey, objects, total, ps.alert)];
          }
        }
        if (actorKey !== undefined && self.config.perActor) {
          const a = self.recordActor(actorKey, objects, rows, t);
          if (a.length > 0) out = out === NONE ? a : [...out, ...a];
        }
        return out;
      },
    };
  }

  /** Low-level form: adds rows to the actor's window (no per-statement thresholds). */
  record(actorKey: string | undefined, objects: readonly string[], rows: number, now: number = this.clock()): AlertInfo[] {
    if (actorKey === undefined || !this.config.perActor || !(rows > 0)) return NONE;
    return this.recordActor(actorKey, objects, rows, now);
  }

  /** Forgets one actor (or everyone): lifts blocks. */
  reset(actorKey?: string): void {
    if (actorKey === undefined) this.actors.clear();
    else this.actors.delete(actorKey);
  }

  private state(actorKey: string): ActorState {
    let s = this.actors.get(actorKey);
    if (s) {
      // Map order = least recently used first.
      this.actors.delete(actorKey);
      this.actors.set(actorKey, s);
      return s;
    }
    s = { buckets: [], sum: 0, alerted: false, blockedAbove: false, block: undefined };
    this.actors.set(actorKey, s);
    if (this.actors.size > this.config.maxActors) {
      for (const [k, v] of this.actors) {
        if (this.actors.size <= this.config.maxActors) break;
        if (v.block === undefined || v.block.until <= this.clock()) this.actors.delete(k);
      }
    }
    return s;
  }

  private prune(s: ActorState, now: number): void {
    const horizon = now - this.windowMs;
    let i = 0;
    while (i < s.buckets.length && s.buckets[i]! + this.bucketMs <= horizon) {
      s.sum -= s.buckets[i + 1]!;
      i += 2;
    }
    if (i > 0) s.buckets.splice(0, i);
  }

  private recordActor(actorKey: string, objects: readonly string[], rows: number, now: number): AlertInfo[] {
    const pa = this.config.perActor!;
    const s = this.state(actorKey);
    this.prune(s, now);
    const bucket = Math.floor(now / this.bucketMs) * this.bucketMs;
    const n = s.buckets.length;
    if (n > 0 && s.buckets[n - 2] === bucket) s.buckets[n - 1]! += rows;
    else s.buckets.push(bucket, rows);
    s.sum += rows;
    // Re-arm once the window has drained below a threshold.
    if (pa.alert !== undefined && s.sum < pa.alert) s.alerted = false;
    if (pa.block !== undefined && s.sum < pa.block) s.blockedAbove = false;
    if (pa.block !== undefined && !s.blockedAbove && s.sum >= pa.block) {
      s.blockedAbove = true;
      s.alerted = true;
      return [this.blockAlert('actor', actorKey, objects, s.sum, pa.block, now)];
    }
    if (pa.alert !== undefined && !s.alerted && s.sum >= pa.alert) {
      s.alerted = true;
      return [this.alert('actor', 'alert', actorKey, objects, s.sum, pa.alert)];
    }
    return NONE;
  }

  private blockAlert(scope: 'statement' | 'actor', actorKey: string | undefined, objects: readonly string[], rows: number, threshold: number, now: number): AlertInfo {
    const until = now + this.config.blockSeconds * 1000;
    const alert = this.alert(scope, 'block', actorKey, objects, rows, threshold);
    if (actorKey !== undefined) {
      const s = this.state(actorKey);
      const rule_id = scope === 'statement' ? 'bulk.per_statement' : 'bulk.per_actor';
      const reason =
        scope === 'statement'
          ? `bulk read: one statement returned ${rows} rows from sensitive objects (block at ${threshold})`
          : `bulk read: ${rows} rows from sensitive objects within ${this.config.perActor!.windowSeconds} s (block at ${threshold})`;
      if (!s.block || s.block.until < until) s.block = Object.freeze({ rule_id, reason, until, mode: this.config.mode });
      alert.bulk!.blocked_until = iso(until);
    }
    return alert;
  }

  private alert(scope: 'statement' | 'actor', action: 'alert' | 'block', actorKey: string | undefined, objects: readonly string[], rows: number, threshold: number): AlertInfo {
    const ws = this.config.perActor?.windowSeconds;
    return {
      kind: 'bulk_read',
      rule_id: scope === 'statement' ? 'bulk.per_statement' : 'bulk.per_actor',
      reason:
        scope === 'statement'
          ? `one statement returned ${rows} rows from sensitive objects (${action} at ${threshold})`
          : `${rows} rows from sensitive objects within ${ws} s (${action} at ${threshold})`,
      severity: action === 'block' ? 'high' : 'medium',
      mode: this.config.mode,
      ...(actorKey === undefined ? {} : { actor_key: actorKey }),
      bulk: {
        scope,
        action,
        rows,
        threshold,
        ...(scope === 'actor' && ws !== undefined ? { window_seconds: ws } : {}),
        objects: [...objects],
      },
    };
  }
}
