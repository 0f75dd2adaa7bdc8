/** A count option: digits only (no '', 1e1 or 0x10), at least `min`; `fallback` when not given. */
export function wholeNumber(option: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${option} ${JSON.stringify(value)}: expected a whole number of at least ${min}`);
  return n;
}
