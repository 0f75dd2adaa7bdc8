/** A statement waiting for its attempt record to be durable (sync mode). */
export interface DurableWaiter {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  /** performance.now() by which it must be durable, or the statement is refused. */
  readonly deadline: number;
  settled: boolean;
}

/**
 * The statements waiting on the journal, in arrival order, with one watchdog timer for all their
 * deadlines instead of a timer per statement (arming and clearing one per attempt showed in sync-mode
 * profiles). Every waiter has the same timeout, so arrival order is deadline order: the sweep only
 * looks at the oldest. The timer keeps the process alive while anyone waits (so every waiting
 * statement is sent or refused before the process can exit, whatever the writer is stuck on), and
 * is unref'd, not cleared, when no one does.
 */
export class DurableWaiters {
  private list: DurableWaiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Whether the timer holds the process open (only while someone waits). */
  private holding = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly timeoutError: () => Error,
  ) {}

  add(resolve: () => void, reject: (e: Error) => void): DurableWaiter {
    const waiter: DurableWaiter = { resolve, reject, deadline: performance.now() + this.timeoutMs, settled: false };
    this.list.push(waiter);
    if (this.timer === undefined) this.arm(this.timeoutMs);
    else if (!this.holding) {
      this.timer.ref();
      this.holding = true;
    }
    return waiter;
  }

  resolve(waiters: readonly DurableWaiter[]): void {
    for (const w of waiters) {
      if (w.settled) continue; // refused already (its deadline passed)
      w.settled = true;
      w.resolve();
    }
    this.compact();
  }

  reject(waiters: readonly DurableWaiter[], error: Error): void {
    for (const w of waiters) {
      if (w.settled) continue;
      w.settled = true;
      w.reject(error);
    }
    this.compact();
  }

  /** Drops settled waiters from the front; the array is rebuilt only when most of it is settled. */
  private compact(): void {
    const list = this.list;
    while (this.head < list.length && list[this.head]!.settled) this.head++;
    if (this.head === list.length) {
      this.list = [];
      this.head = 0;
      if (this.holding) {
        this.timer?.unref();
        this.holding = false;
      }
    } else if (this.head > 1024 && this.head * 2 > list.length) {
      this.list = list.slice(this.head);
      this.head = 0;
    }
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(ms)));
    this.holding = true;
  }

  private sweep(): void {
    this.timer = undefined;
    this.holding = false;
    const now = performance.now();
    const list = this.list;
    while (this.head < list.length && list[this.head]!.deadline <= now) {
      const w = list[this.head++]!;
      if (w.settled) continue;
      w.settled = true;
      w.reject(this.timeoutError());
    }
    this.compact();
    if (this.head < this.list.length) this.arm(this.list[this.head]!.deadline - now);
  }
}
