/**
 * The two WASM parsers, loaded once and then used synchronously: the query path cannot await, so
 * analyze() answers 'unknown' until loadAnalyzers() has finished rather than guessing.
 */
export type PgParseSync = (sql: string) => unknown;
export type MySqlParseSync = (sql: string, dialect: 'mysql') => unknown;

interface Loaded {
  pg: PgParseSync;
  mysql: MySqlParseSync;
}

let loaded: Loaded | undefined;
let loading: Promise<void> | undefined;

export function parsers(): Loaded | undefined {
  return loaded;
}

/** Loads libpg-query and sqlparser-rs (both WASM, shipped in their packages). Idempotent. */
export function loadAnalyzers(): Promise<void> {
  if (loaded) return Promise.resolve();
  if (!loading) {
    loading = (async () => {
      const [pgq, sqlp] = await Promise.all([import('libpg-query'), import('@guanmingchiu/sqlparser-ts')]);
      await Promise.all([pgq.loadModule(), sqlp.init()]);
      loaded = {
        pg: (sql) => pgq.parseSync(sql),
        mysql: (sql, dialect) => sqlp.parse(sql, dialect),
      };
    })();
    // A failed load may be retried by the next call.
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}
