/** Change windows compiled to closures over precomputed numbers (see time.ts for the zone math). */
import type { WindowInput } from './schema.js';
import { DAY_MS, iso, localToUtc, offsetAtCached, parseClock, parseInstant } from './time.js';

export interface WindowOccurrence {
  readonly id: string;
  readonly start: string;
  readonly end: string;
}

export interface CompiledWindow {
  readonly id: string;
  /** Whether the instant `now` (epoch ms) falls inside the window: start inclusive, end exclusive. */
  contains(now: number): boolean;
  /** The occurrence that contains `now` (call only when contains(now)): for policy.window in the event. */
  occurrence(now: number): WindowOccurrence;
}

const DAY_INDEX: Record<string, number> = {
  mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6,
  monday: 0, tuesday: 1, wednesday: 2, thursday: 3, friday: 4, saturday: 5, sunday: 6,
};

/** Monday = 0. 1970-01-01 (day 0 of the epoch) was a Thursday. */
function weekday(localMs: number): number {
  return (((Math.floor(localMs / DAY_MS) + 3) % 7) + 7) % 7;
}

function recurring(w: WindowInput): CompiledWindow {
  const tz = w.timezone!;
  const days = new Array<boolean>(7).fill(false);
  for (const d of w.days!) days[DAY_INDEX[d]!] = true;
  const startMs = parseClock(w.start!)! * 60_000;
  const endMs = parseClock(w.end!)! * 60_000;
  const wraps = endMs <= startMs; // ends on the next day (22:00–06:00)
  const occurrences = new Map<number, WindowOccurrence>();
  /** Local midnight (as Date.UTC of the local fields) of the day the containing occurrence started. */
  const startDay = (now: number): number | undefined => {
    const local = now + offsetAtCached(tz, now);
    const day = weekday(local);
    const msOfDay = ((local % DAY_MS) + DAY_MS) % DAY_MS;
    const midnight = local - msOfDay;
    if (days[day] && msOfDay >= startMs && (wraps || msOfDay < endMs)) return midnight;
    if (wraps && days[(day + 6) % 7] && msOfDay < endMs) return midnight - DAY_MS;
    return undefined;
  };
  return {
    id: w.id,
    contains: (now) => startDay(now) !== undefined,
    occurrence(now) {
      const midnight = startDay(now) ?? now;
      let o = occurrences.get(midnight);
      if (!o) {
        const start = localToUtc(tz, midnight + startMs);
        const end = localToUtc(tz, midnight + (wraps ? DAY_MS : 0) + endMs, true);
        o = Object.freeze({ id: w.id, start: iso(start), end: iso(end) });
        if (occurrences.size > 64) occurrences.clear();
        occurrences.set(midnight, o);
      }
      return o;
    },
  };
}

function once(w: WindowInput): CompiledWindow {
  const resolve = (s: string): number => {
    const p = parseInstant(s)!;
    return p.local ? localToUtc(w.timezone!, p.ms) : p.ms;
  };
  const from = resolve(w.from!);
  const to = resolve(w.to!);
  const occ = Object.freeze({ id: w.id, start: iso(from), end: iso(to) });
  return { id: w.id, contains: (now) => now >= from && now < to, occurrence: () => occ };
}

export function compileWindow(w: WindowInput): CompiledWindow {
  return w.from !== undefined ? once(w) : recurring(w);
}
