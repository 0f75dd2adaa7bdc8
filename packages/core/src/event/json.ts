/**
 * Pieces of JSON text for the event serialiser (capture/statement-line.ts). Each gives exactly what
 * JSON.stringify would give for the same value inside an object, so a line built from pieces is the
 * same text as JSON.stringify of the event.
 */

/** A string as a JSON string. */
export function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * `,"name":<json>` for a property of an object, or '' when JSON.stringify would leave the property
 * out (undefined, a function, a toJSON returning undefined). Throws as JSON.stringify throws.
 */
export function member(name: string, value: unknown): string {
  if (value === undefined) return '';
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : `,"${name}":${json}`;
}

/** A finite number as JSON.stringify writes it (non-finite numbers become null). */
export function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * True when the JSON of `value` can never change: plain objects and arrays only (no Date, no toJSON,
 * no getters), every one of them frozen. Such values may have their JSON text cached by identity.
 */
export function deepFrozen(value: unknown, depth = 0): boolean {
  const t = typeof value;
  if (value === null || t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined') return true;
  if (t !== 'object' || depth > 8 || !Object.isFrozen(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  const descriptors = Object.getOwnPropertyDescriptors(value);
  for (const key of Object.keys(descriptors)) {
    const d = descriptors[key]!;
    if (d.get !== undefined || d.set !== undefined || !deepFrozen(d.value, depth + 1)) return false;
  }
  return true;
}
