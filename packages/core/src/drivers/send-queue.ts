const WAITING = 0;
const READY = 1;
const REFUSED = 2;

interface PendingSend {
  status: typeof WAITING | typeof READY | typeof REFUSED;
  error: unknown;
  /** Hands the statement to the driver (onto its own command queue, synchronously). */
  readonly send: () => void;
  /** The statement is never sent: delivers `error` through the driver's error path. */
  readonly refuse: (error: unknown) => void;
}

/**
 * Per-connection FIFO of admitted statements that are not yet handed to the driver (sync delivery
 * mode: each waits for its `handle.ready`). A statement is handed over only when everything admitted
 * before it on the same connection has been handed over or refused, so a later statement (even one
 * with no `ready`) never overtakes an earlier one that is still waiting for its attempt record to be
 * durable. Handing over is synchronous (pg and mysql2 push onto their own command queue), so the
 * driver then keeps that order on the wire.
 *
 * When nothing is pending and a statement has no `ready`, the caller sends at once and this queue is
 * not touched (no allocation on that path).
 */
export class SendQueue {
  private readonly pending: PendingSend[] = [];

  /** `onError`: reports a send / refuse that threw (a bug of the wrapper; the queue goes on). */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Nothing admitted earlier is still waiting: a statement without `ready` may be sent at once. */
  get empty(): boolean {
    return this.pending.length === 0;
  }

  add(ready: Promise<void> | undefined, send: () => void, refuse: (error: unknown) => void): void {
    const entry: PendingSend = { status: ready === undefined ? READY : WAITING, error: undefined, send, refuse };
    this.pending.push(entry);
    if (ready === undefined) {
      this.pump();
      return;
    }
    ready.then(
      () => {
        entry.status = READY;
        this.pump();
      },
      (error: unknown) => {
        entry.status = REFUSED;
        entry.error = error;
        this.pump();
      },
    );
  }

  /** Hands over every settled statement at the head, in order; stops at the first still waiting. */
  private pump(): void {
    const q = this.pending;
    while (q.length > 0 && q[0]!.status !== WAITING) {
      // Removed before it runs: a statement issued from inside send/refuse queues behind the rest.
      const entry = q.shift()!;
      try {
        if (entry.status === READY) entry.send();
        else entry.refuse(entry.error);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
