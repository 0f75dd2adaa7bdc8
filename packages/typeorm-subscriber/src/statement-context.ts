import { currentContext, type Analysis, type DbInfo, type OrmInfo } from '@querytrail/core';
import { mainObjects, propertiesOf } from './metadata-index.js';
import { ORM_NAME } from './scope.js';
import type { TypeormState } from './state.js';

/**
 * The orm value of one statement: the operation of the TypeORM call that sent it (scope), the entity
 * whose table the statement is about (from the SQL, through the entity metadata), and the properties
 * behind the columns it touches. A statement on no entity table keeps the call's model (START
 * TRANSACTION inside save(user) is the User save's).
 */
export function statementOrm(state: TypeormState, sql: string): OrmInfo {
  const scope = currentContext()?.orm;
  const fromScope = scope?.name === ORM_NAME ? scope : undefined;
  const analysis = analyse(state, sql);
  // The entities may be rebuilt (destroy, setOptions, initialize): a cached result holds for one set.
  const metadatas = state.dataSource.entityMetadatas;
  const known = analysis === undefined ? undefined : cacheOf(state).get(analysis);
  if (known !== undefined && known.scope === fromScope && known.metadatas === metadatas) return known.orm;
  const orm = deepFreeze(describeOrm(state, analysis, fromScope));
  if (analysis !== undefined) cacheOf(state).set(analysis, { scope: fromScope, metadatas, orm });
  return orm;
}

/**
 * The last orm computed per analysis (the analyzer shares one analysis per statement text) and the
 * scope object it was computed in (scope.ts interns those): a repeated statement in the same kind of
 * call gets the same frozen object, whose JSON the journal then caches by identity instead of
 * serialising the properties map for every statement.
 */
interface Known {
  scope: OrmInfo | undefined;
  metadatas: unknown;
  orm: OrmInfo;
}

const caches = new WeakMap<TypeormState, WeakMap<Analysis, Known>>();

function cacheOf(state: TypeormState): WeakMap<Analysis, Known> {
  let cache = caches.get(state);
  if (cache === undefined) {
    cache = new WeakMap();
    caches.set(state, cache);
  }
  return cache;
}

function deepFreeze(orm: OrmInfo): OrmInfo {
  if (orm.properties !== undefined) Object.freeze(orm.properties);
  return Object.freeze(orm);
}

function describeOrm(state: TypeormState, analysis: Analysis | undefined, fromScope: OrmInfo | undefined): OrmInfo {
  let model = fromScope?.model;
  let properties: Record<string, string> | undefined;
  if (analysis) {
    const objects = mainObjects(analysis);
    const entities = objects.map((o) => state.metadata.entityOf(o));
    // Prefer the call's own entity when the statement touches it (a find with relations joins others).
    let index = model === undefined ? -1 : entities.findIndex((e) => e?.name === model);
    if (index < 0) index = entities.findIndex((e) => e !== undefined);
    const entity = index >= 0 ? entities[index] : undefined;
    if (entity) {
      model = entity.name;
      properties = propertiesOf(
        entity,
        objects.filter((_, i) => entities[i] === entity),
      );
    }
  }
  const operation = fromScope?.operation ?? (analysis ? rawOperation(analysis) : undefined);
  return {
    name: ORM_NAME,
    ...(model === undefined ? {} : { model }),
    ...(operation === undefined ? {} : { operation }),
    ...(properties === undefined ? {} : { properties }),
  };
}

/** A statement sent outside any TypeORM call we know (query runner, driver internals): `query`. */
function rawOperation(_analysis: Analysis): string {
  return 'query';
}

function analyse(state: TypeormState, sql: string): Analysis | undefined {
  try {
    return state.auditor.analyze(sql, state.analysisDb);
  } catch {
    return undefined; // context is a nicety: never fail a query over it
  }
}

export function analysisDbOf(type: string): DbInfo {
  if (type === 'postgres') return { system: 'postgresql', driver: 'pg' };
  return { system: type === 'mariadb' ? 'mariadb' : 'mysql', driver: 'mysql2' };
}
