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

/** RFC 3339 UTC with exactly six fractional digits, e.g. 2026-11-22T18:22:06.123456Z. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // ...T18:22:06.123Z
  const sub = String(micros % 1000).padStart(3, '0');
  return `${iso.slice(0, 23)}${sub}Z`;
}
