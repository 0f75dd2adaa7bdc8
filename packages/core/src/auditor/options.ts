import type { ContextProvider } from '../context/types.js';
import type { ParamsOptions } from '../capture/params.js';
import type { JournalOptions } from '../journal/journal.js';
import type { QuerytrailEvent } from '../event/types.js';
import type { BackoffOptions } from '../delivery/backoff.js';
import { validateSinks } from '../delivery/engine.js';
import type { Sink } from '../delivery/sink.js';
import { ConfigError } from '../errors.js';
import type { CatalogOptions } from './catalogs.js';
import type { CompiledPolicy, PolicyInput } from '../policy/index.js';

export interface AuditorOptions {
  service: { name: string; version?: string; env?: string; instanceId?: string };
  /** Where evidence is written; `false` keeps events in memory only (subscribers still see them). */
  journal: JournalOptions | false;
  /** How bound parameter values are recorded. Default: hashed (HMAC-SHA256). */
  params?: ParamsOptions;
  /** Statement texts longer than this are cut (statement.truncated = true). Default 16384 characters. */
  maxStatementLength?: number;
  /** SQL analysis: exact-text LRU cache size (default 2000) and the longest text sent to the parser (default 100,000). */
  analysis?: { cacheSize?: number; maxLength?: number };
  /** Policy: an object (validated here) or loadPolicy('policy.yaml'). See docs/policy.md. */
  policy?: PolicyInput | CompiledPolicy;
  /** Table catalog for `SELECT *` and views: introspected per database by default, or given statically. */
  catalog?: CatalogOptions;
  /** For apps that keep the current user elsewhere (cls-hooked and the like). Used when runWithContext set nothing. */
  contextProvider?: ContextProvider;
  /**
   * Close (flush, sdk.stop, final checkpoint, fsync) when the process runs out of work without close()
   * having been called (Node's beforeExit). Default true. Signals and process.exit() skip beforeExit:
   * call close() in your shutdown handler.
   */
  closeOnExit?: boolean;
  /** Called for every event as it is emitted (before it is chained). A listener that throws is ignored. */
  onEvent?: (event: QuerytrailEvent) => void;
  /** Where the journal is shipped (from @querytrail/sinks/...): each reads it through its own cursor. Needs journal.dir. See docs/sinks.md. */
  sinks?: readonly Sink[];
  /** Sink delivery tuning. close() waits up to closeTimeoutMs (default 10,000) for sinks to catch up; the rest goes out on the next start. */
  delivery?: { closeTimeoutMs?: number; pollIntervalMs?: number; backoff?: BackoffOptions; onError?: (error: Error) => void };
}

function fail(path: string, message: string): never {
  throw new ConfigError(path, message);
}

/** Validates at start, with the path of the bad field, so a misconfiguration never surfaces mid-traffic. */
export function validateOptions(options: unknown): AuditorOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'expected an object');
  const o = options as Record<string, unknown>;
  const service = o.service as Record<string, unknown> | undefined;
  if (typeof service !== 'object' || service === null) fail('service', 'expected { name: string, ... }');
  if (typeof service.name !== 'string' || service.name.length === 0) fail('service.name', 'expected a non-empty string');
  for (const k of ['version', 'env', 'instanceId'] as const) {
    if (service[k] !== undefined && typeof service[k] !== 'string') fail(`service.${k}`, 'expected a string');
  }
  if (o.journal === undefined) fail('journal', 'required: { dir: "./audit" } or false for memory only');
  if (o.journal !== false) {
    const j = o.journal as Record<string, unknown>;
    if (typeof j !== 'object' || j === null) fail('journal', 'expected { dir: string, ... } or false');
    if (typeof j.dir !== 'string' || j.dir.length === 0) fail('journal.dir', 'expected a directory path');
    if (j.mode !== undefined && j.mode !== 'async' && j.mode !== 'sync' && j.mode !== 'auto') fail('journal.mode', `unknown mode ${JSON.stringify(j.mode)} (async, sync, auto)`);
    for (const k of ['lingerMs', 'groupCommitMs'] as const) {
      if (j[k] !== undefined && !(Number.isInteger(j[k]) && (j[k] as number) >= 0)) fail(`journal.${k}`, 'expected a whole number of milliseconds (0 or more)');
    }
    for (const k of ['segmentMaxBytes', 'maxQueuedEvents', 'checkpointEvery', 'checkpointIntervalMs', 'syncTimeoutMs'] as const) {
      if (j[k] !== undefined && !(Number.isInteger(j[k]) && (j[k] as number) > 0)) fail(`journal.${k}`, 'expected a positive integer');
    }
    // Waiting for company as long as a statement may wait at all would refuse every concurrent statement.
    const syncTimeoutMs = (j.syncTimeoutMs as number | undefined) ?? 5000;
    if (j.groupCommitMs !== undefined && (j.groupCommitMs as number) >= syncTimeoutMs) {
      fail('journal.groupCommitMs', `must be below journal.syncTimeoutMs (${syncTimeoutMs} ms); a millisecond or two is enough`);
    }
    if (j.spill !== undefined && j.spill !== false) {
      const sp = j.spill as Record<string, unknown>;
      if (typeof sp !== 'object' || sp === null) fail('journal.spill', 'expected { maxBytes?: number } or false');
      if (sp.maxBytes !== undefined && !(Number.isInteger(sp.maxBytes) && (sp.maxBytes as number) > 0)) fail('journal.spill.maxBytes', 'expected a positive integer (bytes)');
    }
  }
  if (o.params !== undefined) {
    const p = o.params as Record<string, unknown>;
    if (typeof p !== 'object' || p === null) fail('params', 'expected an object');
    if (p.mode !== undefined && !['omitted', 'hashed', 'redacted', 'raw'].includes(p.mode as string)) {
      fail('params.mode', `unknown mode ${JSON.stringify(p.mode)} (omitted, hashed, redacted, raw)`);
    }
  }
  if (o.analysis !== undefined) {
    const a = o.analysis as Record<string, unknown>;
    if (typeof a !== 'object' || a === null) fail('analysis', 'expected { cacheSize?, maxLength? }');
    for (const k of ['cacheSize', 'maxLength'] as const) {
      if (a[k] !== undefined && !(Number.isInteger(a[k]) && (a[k] as number) > 0)) fail(`analysis.${k}`, 'expected a positive integer');
    }
  }
  if (o.catalog !== undefined) {
    const c = o.catalog as Record<string, unknown>;
    if (typeof c !== 'object' || c === null) fail('catalog', "expected { mode?: 'introspect' | false, static?: {...} }");
    if (c.mode !== undefined && c.mode !== 'introspect' && c.mode !== false) fail('catalog.mode', "expected 'introspect' or false");
    if (c.static !== undefined && (typeof c.static !== 'object' || c.static === null)) fail('catalog.static', 'expected an object keyed by database name');
  }
  if (o.maxStatementLength !== undefined && !(Number.isInteger(o.maxStatementLength) && (o.maxStatementLength as number) > 0)) {
    fail('maxStatementLength', 'expected a positive integer');
  }
  if (o.sinks !== undefined) {
    validateSinks(o.sinks, 'sinks');
    if (o.journal === false && (o.sinks as unknown[]).length > 0) fail('sinks', 'sinks read the journal on disk: set journal: { dir } (journal: false keeps events in memory only)');
  }
  if (o.delivery !== undefined) {
    const d = o.delivery as Record<string, unknown>;
    if (typeof d !== 'object' || d === null) fail('delivery', 'expected { closeTimeoutMs?, pollIntervalMs?, backoff?, onError? }');
    if (d.closeTimeoutMs !== undefined && !(Number.isInteger(d.closeTimeoutMs) && (d.closeTimeoutMs as number) >= 0)) fail('delivery.closeTimeoutMs', 'expected a whole number of milliseconds');
    if (d.pollIntervalMs !== undefined && !(Number.isInteger(d.pollIntervalMs) && (d.pollIntervalMs as number) > 0)) fail('delivery.pollIntervalMs', 'expected a positive whole number of milliseconds');
    if (d.onError !== undefined && typeof d.onError !== 'function') fail('delivery.onError', 'expected a function');
    const b = d.backoff as Record<string, unknown> | undefined;
    if (b !== undefined && (typeof b !== 'object' || b === null)) fail('delivery.backoff', 'expected { initialMs?, maxMs? }');
    for (const k of ['initialMs', 'maxMs'] as const) {
      if (b?.[k] !== undefined && !(Number.isInteger(b[k]) && (b[k] as number) > 0)) fail(`delivery.backoff.${k}`, 'expected a positive integer');
    }
  }
  for (const k of ['contextProvider', 'onEvent'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'function') fail(k, 'expected a function');
  }
  return o as unknown as AuditorOptions;
}
