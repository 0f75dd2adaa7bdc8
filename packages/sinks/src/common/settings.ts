import { ConfigError } from '@querytrail/core';

/** Settings checks shared by the sink factories: each failure names the field, e.g. `nats.servers`. */
export function requireObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(path, 'expected an object of settings');
  return value as Record<string, unknown>;
}

export function optionalString(o: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${path}.${key}`, 'expected a non-empty string');
  return v;
}

export function optionalPositiveInt(o: Record<string, unknown>, key: string, path: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!(Number.isSafeInteger(v) && (v as number) > 0)) throw new ConfigError(`${path}.${key}`, 'expected a positive integer');
  return v as number;
}

export function optionalOneOf<T extends string>(o: Record<string, unknown>, key: string, path: string, allowed: readonly T[]): T | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new ConfigError(`${path}.${key}`, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  return v as T;
}

/** Sink names become cursor file names. */
export function sinkName(o: Record<string, unknown>, path: string, fallback: string): string {
  const name = optionalString(o, 'name', path) ?? fallback;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) throw new ConfigError(`${path}.name`, 'expected letters, digits, ".", "_" or "-"');
  return name;
}
