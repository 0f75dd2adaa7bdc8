import { performance } from 'node:perf_hooks';

/**
 * Microsecond wall-clock time. Date has millisecond resolution, so we anchor the monotonic
 * performance clock to Date once and derive microseconds from it: timestamps stay ordered and
 * durations are exact even if the wall clock is adjusted later.
 */
const originMicros = Date.now() * 1000 - Math.round(performance.now() * 1000);

export function nowMicros(): number {
  return originMicros + Math.round(performance.now() * 1000);
}

// The date and time up to the second change once a second: formatted once (Date#toISOString), then
// only the six fractional digits are added per timestamp. Three timestamps per event made the ISO
// formatting a visible share of the query path.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

/** RFC 3339 UTC with exactly six fractional digits, e.g. 2026-11-22T18:22:06.123456Z. */
export function formatMicros(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20); // ...T18:22:06.
    cachedSecond = second;
  }
  // 1e6 + fraction has seven digits: dropping the leading 1 pads the fraction to six.
  return `${cachedPrefix}${String(1_000_000 + (micros - second * 1_000_000)).slice(1)}Z`;
}
