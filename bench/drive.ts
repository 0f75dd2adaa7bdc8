/**
 * Runs `n` operations numbered `first`, `first + 1`, … over `concurrency` lanes, each lane awaiting its
 * operation before taking the next number: the load shape of every bench that drives a pool.
 * With `latencies`, each operation's time in ms is stored at its index (0 … n-1).
 */
import { performance } from 'node:perf_hooks';

export async function drive(op: (i: number) => Promise<void>, first: number, n: number, concurrency: number, latencies?: Float64Array): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const k = next++;
      if (k >= n) return;
      const t0 = latencies ? performance.now() : 0;
      await op(first + k);
      if (latencies) latencies[k] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}
