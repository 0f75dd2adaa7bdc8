/** Public types of the SQL analysis. Results are frozen: the cache shares them between callers. */

export type Dialect = 'postgres' | 'mysql' | 'mariadb';

export type StatementKind = 'read' | 'write' | 'ddl' | 'dcl' | 'admin' | 'tcl' | 'exec' | 'unknown';

export type Access = 'read' | 'write' | 'ddl';

export interface AnalyzedObject {
  readonly schema?: string;
  readonly name: string;
  readonly access: Access;
  readonly columns: readonly string[];
}

export interface AnalyzedStatement {
  readonly kind: StatementKind;
  readonly command: string;
  readonly destructive: boolean;
  readonly reasons: readonly string[];
  /** PREPARE / EXECUTE / DEALLOCATE: the prepared statement's name ('*' for DEALLOCATE ALL). */
  readonly name?: string;
  /** PREPARE: the analysis of the prepared body, so a tracker can resolve a later EXECUTE. */
  readonly body?: Analysis;
}

export interface Analysis {
  /** Most severe kind over all statements (see SEVERITY in severity.ts). */
  readonly kind: StatementKind;
  readonly destructive: boolean;
  readonly statementCount: number;
  readonly commands: readonly string[];
  readonly statements: readonly AnalyzedStatement[];
  readonly objects: readonly AnalyzedObject[];
  readonly fingerprint: string;
  readonly summary: string;
  readonly reasons: readonly string[];
  readonly error?: string;
}

export interface AnalyzeOptions {
  dialect: Dialect;
  catalog?: import('./catalog.js').Catalog | undefined;
  /** MySQL/MariaDB: backslash escapes in strings (true unless sql_mode has NO_BACKSLASH_ESCAPES). */
  backslashEscapes?: boolean | undefined;
  /** PostgreSQL: standard_conforming_strings (true by default since 9.1). */
  standardConformingStrings?: boolean | undefined;
}
