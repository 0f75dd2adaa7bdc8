import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuditor } from '@querytrail/core';
import { instrumentTypeorm } from '@querytrail/typeorm';
import { tempDir } from '../../core/test/support/temp-dir.js';
import { openPgLog, type ServerLog } from '../../core/test/support/server-log.js';
import { validatingListener } from '../../core/test/support/valid-events.js';
import { makeEntities } from './entities.js';
import { actorFlow, checkFlow } from './flow.js';
import { admin, createTables, dataSourceOptions, dropTables, NEVER_OPEN, readJournal, sorted } from './helpers.js';
import { TYPEORM_VERSIONS } from './versions.js';

/**
 * The flow of two concurrent actors on PostgreSQL, checked against what the server itself executed:
 * a dedicated role with log_statement = 'all', whose lines are read back from the server log (openPgLog).
 * Once per TypeORM version, each with its own role and tables.
 */

for (const { typeorm, version, tag } of TYPEORM_VERSIONS) {
  describe(`TypeORM ${version}`, () => {
    const ROLE = `qt_typeorm_pg_flow_${tag}`;
    const entities = makeEntities(typeorm, `qt_to_flow_pg_${tag}`);
    let log: ServerLog | undefined;

    before(async () => {
      await createTables(typeorm, 'postgres', entities);
      await admin('postgres', `DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN EXECUTE 'DROP OWNED BY ${ROLE}'; EXECUTE 'DROP ROLE ${ROLE}'; END IF; END $$`);
      log = await openPgLog(ROLE);
      const { author, post } = entities.tables;
      await admin('postgres', `GRANT SELECT, INSERT, UPDATE, DELETE ON ${author}, ${post} TO ${ROLE}`);
      await admin('postgres', `GRANT USAGE, SELECT ON SEQUENCE ${author}_id_seq, ${post}_id_seq TO ${ROLE}`);
    });

    after(async () => {
      await dropTables('postgres', entities);
      await log?.close();
    });

    test('PostgreSQL: two concurrent actors, every statement the server executed is in the journal once, with actor and model; DELETE without WHERE is blocked', async () => {
      // Comparing with what the server executed is the point of this test: no log, no pass.
      assert.ok(log, 'the PostgreSQL server log is not readable here (pg_current_logfile / /var/log/postgresql): this test needs it');
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
      const server = (await log.read()).map((x) => x.text);
      assert.ok(server.length >= 20, `the server logged ${server.length} statements of ${ROLE}`);
      // Exactly the statements the server executed, each once: TypeORM's start-up and catalog reads included.
      assert.deepEqual(sorted(sent.map((e) => e.statement?.text ?? '')), sorted(server));
      assert.ok(!server.some((s) => s === `DELETE FROM "${entities.tables.post}"`), 'the blocked DELETE never reached the server');
      const left = await admin('postgres', `SELECT title FROM ${entities.tables.post} ORDER BY title`);
      assert.deepEqual(left.map((r) => r.title), ['alice second', 'bob second']);
    });
  });
}
