import type { Auditor, CompiledPolicy, DbInfo } from '@querytrail/core';
import type { MetadataIndex } from './metadata-index.js';
import type { DataSourceLike } from './types.js';

/** What instrumentTypeorm keeps per DataSource. */
export interface TypeormState {
  readonly auditor: Auditor;
  readonly dataSource: DataSourceLike;
  readonly metadata: MetadataIndex;
  /** For analysis only (table names); the driver computes the real DbInfo per connection. */
  readonly analysisDb: DbInfo;
  readonly policy: CompiledPolicy | undefined;
  readonly context: boolean;
}

// One registry per process, even when both the ESM and the CJS build are loaded: the query builder
// prototypes are patched once, by whichever copy came first, and must see every instrumented DataSource.
const key = Symbol.for('querytrail.typeorm.states/1');
const holder = globalThis as { [key]?: WeakMap<object, TypeormState> };
const states: WeakMap<object, TypeormState> = holder[key] ?? new WeakMap<object, TypeormState>();
holder[key] = states;

export function stateOf(dataSource: unknown): TypeormState | undefined {
  return typeof dataSource === 'object' && dataSource !== null ? states.get(dataSource) : undefined;
}

export function setState(dataSource: object, state: TypeormState): void {
  states.set(dataSource, state);
}
