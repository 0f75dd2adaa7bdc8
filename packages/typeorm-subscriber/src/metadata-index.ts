import type { Analysis, AnalyzedObject } from '@querytrail/core';
import type { DataSourceLike, EntityMetadataLike } from './types.js';

/**
 * Table name → entity metadata, built once after TypeORM has built its metadata. Keys are the table
 * name alone and `schema.table`, as the analysis reports them (TypeORM quotes every identifier, so
 * the spelling is exact).
 */
export class MetadataIndex {
  private byTable: Map<string, EntityMetadataLike> | undefined;
  private builtFrom: readonly EntityMetadataLike[] | undefined;

  constructor(private readonly dataSource: DataSourceLike) {}

  /** The entity stored in `object`'s table, if any. */
  entityOf(object: AnalyzedObject): EntityMetadataLike | undefined {
    const index = this.index();
    if (object.schema !== undefined) {
      const qualified = index.get(`${object.schema}.${object.name}`);
      if (qualified) return qualified;
    }
    return index.get(object.name);
  }

  /** The entity of a class, EntitySchema, entity name or entity instance, if TypeORM knows it. */
  entityOfTarget(target: unknown): EntityMetadataLike | undefined {
    if (target === undefined || target === null) return undefined;
    const ds = this.dataSource;
    try {
      if (ds.hasMetadata(target)) return ds.getMetadata(target);
      if (typeof target === 'object') {
        const first = Array.isArray(target) ? target[0] : target;
        const ctor = (first as { constructor?: unknown } | undefined)?.constructor;
        if (ctor && ctor !== Object && ds.hasMetadata(ctor)) return ds.getMetadata(ctor);
      }
    } catch {
      // hasMetadata throws before initialize() on some versions: no context, never an error.
    }
    return undefined;
  }

  private index(): Map<string, EntityMetadataLike> {
    const metadatas = this.dataSource.entityMetadatas;
    if (this.byTable && this.builtFrom === metadatas) return this.byTable;
    const map = new Map<string, EntityMetadataLike>();
    for (const m of metadatas) {
      if (m.schema) map.set(`${m.schema}.${m.tableName}`, m);
      if (!map.has(m.tableName)) map.set(m.tableName, m);
    }
    this.byTable = map;
    this.builtFrom = metadatas;
    return map;
  }
}

/** The object a statement is mainly about: what it writes, else the first thing it reads. */
export function mainObjects(analysis: Analysis): AnalyzedObject[] {
  const writes = analysis.objects.filter((o) => o.access !== 'read');
  return writes.length > 0 ? [...writes, ...analysis.objects.filter((o) => o.access === 'read')] : [...analysis.objects];
}

/** Property path → column for the columns of `entity` that `object` names (only those TypeORM maps). */
export function propertiesOf(entity: EntityMetadataLike, objects: readonly AnalyzedObject[]): Record<string, string> | undefined {
  const wanted = new Set<string>();
  for (const o of objects) for (const c of o.columns) wanted.add(c);
  if (wanted.size === 0) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const column of entity.columns) {
    if (wanted.has(column.databaseName)) {
      out[column.propertyPath] = column.databaseName;
      n++;
    }
  }
  return n > 0 ? out : undefined;
}
