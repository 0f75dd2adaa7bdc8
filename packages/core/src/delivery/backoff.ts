/** Retry delays for one sink: exponential growth capped at maxMs, with full jitter (AWS architecture blog). */
export interface BackoffOptions {
  /** First ceiling in ms. Default 100. */
  initialMs?: number;
  /** Largest ceiling in ms. Default 30,000. */
  maxMs?: number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 30_000;
  }

  /** Failures in a row since the last success. */
  get failures(): number {
    return this.attempt;
  }

  /**
   * The next wait: uniform in [0, min(max, initial * 2^n)]. Full jitter spreads the retries of many
   * app instances after a shared outage, so they do not come back in lock step.
   */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.round(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
