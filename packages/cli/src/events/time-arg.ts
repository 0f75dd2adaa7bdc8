const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "90s", "15m", "24h", "7d", "2w" in milliseconds; undefined for anything else. */
export function durationMs(value: string): number | undefined {
  const m = /^(\d+)([smhdw])$/.exec(value);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/**
 * An RFC 3339 time with its zone, or a date (midnight UTC), as epoch milliseconds (sub-millisecond
 * digits kept); undefined for anything else, a time without a zone or a day that does not exist.
 */
export function instantMs(value: string): number | undefined {
  const date = /^\d{4}-\d\d-\d\d$/.test(value) ? `${value}T00:00:00Z` : value;
  // A time without a zone would be read in the local zone: evidence times are UTC, so ask for one.
  const m = /^(\d{4})-(\d\d)-(\d\d)T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.exec(date);
  if (!m) return undefined;
  const ms = preciseMs(date);
  // Date.parse rolls 2026-02-30 over to March 2: a day that does not exist is refused instead.
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return !Number.isNaN(ms) && day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d ? ms : undefined;
}

/**
 * A --since / --until value as epoch milliseconds: an RFC 3339 time ("2026-12-06T09:00:00Z"), a
 * date ("2026-12-06", midnight UTC), or a duration back from `now` ("90s", "15m", "24h", "7d", "2w").
 * Throws an error naming the option and the forms accepted.
 */
export function parseTimeArg(option: string, value: string, now: number): number {
  const back = durationMs(value);
  const ms = back === undefined ? instantMs(value) : now - back;
  if (ms !== undefined) return ms;
  throw new Error(
    `--${option} ${JSON.stringify(value)}: expected an RFC 3339 time with a zone (2026-12-06T09:00:00Z), a date (2026-12-06) or a duration back from now (90s, 15m, 24h, 7d, 2w)`,
  );
}

/**
 * An RFC 3339 time as epoch milliseconds with its sub-millisecond digits kept as the fraction (event
 * times have microseconds; Date.parse drops them, which would put an event on the wrong side of a bound).
 */
export function preciseMs(time: string): number {
  const ms = Date.parse(time);
  const frac = /T\d\d:\d\d:\d\d\.\d{3}(\d+)/.exec(time)?.[1];
  return frac === undefined || Number.isNaN(ms) ? ms : ms + Number(`0.${frac}`);
}

