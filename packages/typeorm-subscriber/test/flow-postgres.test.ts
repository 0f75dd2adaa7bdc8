import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuditor } from '@querytrail/core';
import { instrumentTypeorm } from '@querytrail/typeorm';
import { tempDir } from '../../core/test/support/temp-dir.js';
import { validatingListener } from '../../core/test/support/valid-events.js';
import { makeEntities } from './entities.js';
import { actorFlow, checkFlow } from './flow.js';
import { admin, createTables, dataSourceOptions, dropTables, NEVER_OPEN, readJournal, sorted } from './helpers.js';
import { TYPEORM_VERSIONS } from './versions.js';

/**
 * The flow of two concurrent actors on PostgreSQL, checked against what the server itself executed:
 * a dedicated role with log_statement = 'all', whose lines are read back from the server log.
 * Once per TypeORM version, each with its own role and tables.
 */

async function logFile(): Promise<string | undefined> {
  const [row] = await admin('postgres', `SELECT pg_current_logfile() AS f, current_setting('data_directory') AS d, current_setting('server_version_num') AS v`);
  const candidates = [row?.f, `/var/log/postgresql/postgresql-${String(row?.v).slice(0, 2)}-main.log`].filter((f): f is string => typeof f === 'string');
  for (const f of candidates) {
    const path = f.startsWith('/') ? f : `${row?.d}/${f}`;
    try {
      await admin('postgres', 'SELECT pg_stat_file($1)', [path]);
      return path;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

async function logSize(path: string): Promise<number> {
  const [row] = await admin('postgres', 'SELECT (pg_stat_file($1)).size AS size', [path]);
  return Number(row?.size);
}

/** Statements the server logged for `role` since `offset`: `statement: …` and `execute <name>: …` lines. */
async function serverStatements(path: string, offset: number, role: string): Promise<string[]> {
  const size = await logSize(path);
  const [row] = await admin('postgres', 'SELECT pg_read_file($1, $2, $3) AS text', [path, offset, size - offset]);
  const records: string[] = [];
  for (const line of String(row?.text ?? '').split('\n')) {
    if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \S+ \[\d+\] /.test(line)) records.push(line);
    // The server prefixes each continuation line of a multi-line statement with a tab.
    else if (records.length > 0) records[records.length - 1] += `\n${line.replace(/^\t/, '')}`;
  }
  const out: string[] = [];
  const re = new RegExp(`^\\S+ \\S+ \\S+ \\[\\d+\\] ${role}@\\S+ LOG:  (?:statement|execute [^:]*): ([\\s\\S]*)$`);
  for (const r of records) {
    const m = re.exec(r);
    if (m) out.push(m[1]!.replace(/\n$/, ''));
  }
  return out;
}

let path: string | undefined;

before(async () => {
  path = await logFile();
});

for (const { typeorm, version, tag } of TYPEORM_VERSIONS) {
  describe(`TypeORM ${version}`, () => {
    const ROLE = `qt_typeorm_pg_flow_${tag}`;
    const entities = makeEntities(typeorm, `qt_to_flow_pg_${tag}`);

    before(async () => {
      await createTables(typeorm, 'postgres', entities);
      await admin('postgres', `DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN EXECUTE 'DROP OWNED BY ${ROLE}'; EXECUTE 'DROP ROLE ${ROLE}'; END IF; END $$`);
      await admin('postgres', `CREATE ROLE ${ROLE} LOGIN`);
      await admin('postgres', `ALTER ROLE ${ROLE} SET log_statement = 'all'`);
      const { author, post } = entities.tables;
      await admin('postgres', `GRANT SELECT, INSERT, UPDATE, DELETE ON ${author}, ${post} TO ${ROLE}`);
      await admin('postgres', `GRANT USAGE, SELECT ON SEQUENCE ${author}_id_seq, ${post}_id_seq TO ${ROLE}`);
    });

    after(async () => {
      await dropTables('postgres', entities);
      await admin('postgres', `DROP OWNED BY ${ROLE}`);
      await admin('postgres', `DROP ROLE IF EXISTS ${ROLE}`);
    });

    test('PostgreSQL: two concurrent actors, every statement the server executed is in the journal once, with actor and model; DELETE without WHERE is blocked', async () => {
      // Comparing with what the server executed is the point of this test: no log, no pass.
      assert.ok(path, 'the PostgreSQL server log is not readable here (pg_current_logfile / /var/log/postgresql): this test needs it');
      const offset = await logSize(path);
      const dir = tempDir('qt-typeorm-flow-');
      const auditor = createAuditor({
        service: { name: 'typeorm-flow' },
        journal: { dir, mode: 'auto' },
        params: { mode: 'raw' },
        policy: NEVER_OPEN,
        onEvent: validatingListener(() => {}),
      });
      const ds = instrumentTypeorm(new typeorm.DataSource(dataSourceOptions('postgres', { username: ROLE, entities: entities.schemas, poolSize: 4 })), auditor, { policy: NEVER_OPEN });
      await ds.initialize();
      const blocked = await Promise.all(
        ['alice', 'bob'].map((id) => auditor.runWithContext({ actor: { type: 'human', id } }, () => actorFlow('postgres', ds, entities, id))),
      );
      await ds.destroy();
      await auditor.close();

      const sent = checkFlow(typeorm, readJournal(dir), blocked, entities, ROLE);
      const server = await serverStatements(path, offset, ROLE);
      assert.ok(server.length >= 20, `the server logged ${server.length} statements of ${ROLE}`);
      // Exactly the statements the server executed, each once: TypeORM's start-up and catalog reads included.
      assert.deepEqual(sorted(sent.map((e) => e.statement?.text ?? '')), sorted(server));
      assert.ok(!server.some((s) => s === `DELETE FROM "${entities.tables.post}"`), 'the blocked DELETE never reached the server');
      const left = await admin('postgres', `SELECT title FROM ${entities.tables.post} ORDER BY title`);
      assert.deepEqual(left.map((r) => r.title), ['alice second', 'bob second']);
    });
  });
}
