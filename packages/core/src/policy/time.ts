/**
 * Time-zone arithmetic with Intl.DateTimeFormat only. Windows are wall-clock times in an IANA zone,
 * so a window "sat 22:00–06:00 Europe/Berlin" follows daylight-saving changes: on the night of a
 * spring-forward change it is one hour shorter in elapsed time, on a fall-back night one hour longer.
 *
 * Hot path: the UTC offset of a zone is cached for the current minute (every zone change since the
 * 1970s happens on a whole minute), so a decision costs one formatToParts per zone per minute.
 */

const MINUTE = 60_000;
export const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True for a time-zone name Intl knows (IANA names, `UTC`, fixed offsets like `+01:00` on newer engines). */
export function isTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Offset of `tz` from UTC at the instant `utcMs`, in ms (Europe/Berlin in summer: +7_200_000). */
export function offsetAt(tz: string, utcMs: number): number {
  const whole = Math.floor(utcMs / 1000) * 1000;
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatter(tz).formatToParts(whole)) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - whole;
}

const hot = new Map<string, { from: number; offset: number }>();

/** offsetAt, cached for the minute that contains `utcMs`. */
export function offsetAtCached(tz: string, utcMs: number): number {
  const from = Math.floor(utcMs / MINUTE) * MINUTE;
  const c = hot.get(tz);
  if (c && c.from === from) return c.offset;
  const offset = offsetAt(tz, from);
  hot.set(tz, { from, offset });
  return offset;
}

/**
 * The instant of a wall-clock time (`localMs` = Date.UTC of the local fields) in `tz`. A time that
 * occurs twice (fall-back) resolves to its first occurrence, or its last when `latest`; a time that
 * does not exist (spring-forward gap) moves forward by the size of the gap, like Temporal's 'compatible'.
 */
export function localToUtc(tz: string, localMs: number, latest = false): number {
  const before = offsetAt(tz, localMs - DAY_MS);
  const after = offsetAt(tz, localMs + DAY_MS);
  const candidates: number[] = [];
  for (const o of before === after ? [before] : [before, after]) {
    const utc = localMs - o;
    if (offsetAt(tz, utc) === o) candidates.push(utc);
  }
  if (candidates.length === 0) {
    // A gap: no instant has these wall-clock fields. Use the offset in force before the change.
    return localMs - before;
  }
  return latest ? Math.max(...candidates) : Math.min(...candidates);
}

/** "HH:MM" → minutes since midnight (0..1440), or undefined. */
export function parseClock(s: string): number | undefined {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(s);
  if (!m) return undefined;
  const v = Number(m[1]) * 60 + Number(m[2]);
  return v > 24 * 60 ? undefined : v;
}

/**
 * ISO 8601 date-time. With Z or an offset: `ms` is the instant. Without: `local` is true and `ms`
 * is Date.UTC of the wall-clock fields (resolve it with localToUtc and the window's zone).
 */
export function parseInstant(s: string): { ms: number; local: boolean } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, off] = m;
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec ?? 0)] as const;
  if (fields[1] < 1 || fields[1] > 12 || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) return undefined;
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]) + (frac ? Math.floor(Number(frac) * 1000) : 0);
  if (new Date(local).getUTCDate() !== fields[2]) return undefined; // 2026-02-30
  if (off === undefined) return { ms: local, local: true };
  if (off === 'Z' || off === 'z') return { ms: local, local: false };
  const sign = off[0] === '-' ? -1 : 1;
  const oh = Number(off.slice(1, 3));
  const om = Number(off.slice(4, 6));
  if (oh > 23 || om > 59) return undefined;
  return { ms: local - sign * (oh * 60 + om) * MINUTE, local: false };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
