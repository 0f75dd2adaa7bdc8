import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuditor } from '@querytrail/core';
import mysql2 from 'mysql2';
import { instrumentTypeorm } from '@querytrail/typeorm';
import { tempDir } from '../../core/test/support/temp-dir.js';
import { validatingListener } from '../../core/test/support/valid-events.js';
import { makeEntities } from './entities.js';
import { actorFlow, checkFlow } from './flow.js';
import { admin, createTables, dataSourceOptions, dropTables, NEVER_OPEN, readJournal, sorted } from './helpers.js';
import { TYPEORM_VERSIONS } from './versions.js';

/**
 * The flow of two concurrent actors on MariaDB, checked against what the server itself executed:
 * the general log (to a table, for this test's duration) of a dedicated user.
 *
 * mysql2's query() interpolates values on the client, so the server logs the final text; the journal
 * keeps the template and (params mode raw here) the values, from which mysql2.format gives the same text.
 * Once per TypeORM version, each with its own user and tables.
 */
let saved: { general_log: unknown; log_output: unknown } | undefined;
let ours: { log_output: string } | undefined;
/** Held while the general log is ours: other test files that switch it (knex) take the same named lock. */
let lock: ReturnType<ReturnType<typeof mysql2.createConnection>['promise']> | undefined;

before(async () => {
  lock = mysql2.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' }).promise();
  const [rows] = (await lock.query("SELECT GET_LOCK('querytrail.test.general_log', 300) AS ok")) as unknown as [Array<{ ok: number }>];
  assert.equal(Number(rows[0]?.ok), 1, 'could not take the querytrail.test.general_log lock');
  // Global settings: remember them, add TABLE output, and put back only what we changed (below).
  const [row] = await admin('mariadb', 'SELECT @@global.general_log AS general_log, @@global.log_output AS log_output');
  saved = { general_log: row?.general_log, log_output: row?.log_output };
  const outputs = String(row?.log_output).split(',').filter((o) => o !== 'NONE');
  if (!outputs.includes('TABLE')) outputs.push('TABLE');
  ours = { log_output: outputs.join(',') };
  await admin('mariadb', `SET GLOBAL log_output = '${ours.log_output}'`);
  await admin('mariadb', 'SET GLOBAL general_log = 1');
});

after(async () => {
  if (saved && ours) {
    const [row] = await admin('mariadb', 'SELECT @@global.general_log AS general_log, @@global.log_output AS log_output');
    if (Number(saved.general_log) === 0 && Number(row?.general_log) === 1) await admin('mariadb', 'SET GLOBAL general_log = 0');
    if (row?.log_output === ours.log_output && saved.log_output !== ours.log_output) await admin('mariadb', `SET GLOBAL log_output = '${saved.log_output}'`);
  }
  await lock?.end(); // releases the lock
});

for (const { typeorm, version, tag } of TYPEORM_VERSIONS) {
  describe(`TypeORM ${version}`, () => {
    const USER = `qt_typeorm_my_flow_${tag}`;
    const entities = makeEntities(typeorm, `qt_to_flow_my_${tag}`);

    before(async () => {
      await createTables(typeorm, 'mariadb', entities);
      await admin('mariadb', `DROP USER IF EXISTS '${USER}'@'%'`);
      await admin('mariadb', `CREATE USER '${USER}'@'%'`);
      const { author, post } = entities.tables;
      await admin('mariadb', `GRANT SELECT, INSERT, UPDATE, DELETE ON test.${author} TO '${USER}'@'%'`);
      await admin('mariadb', `GRANT SELECT, INSERT, UPDATE, DELETE ON test.${post} TO '${USER}'@'%'`);
    });

    after(async () => {
      await dropTables('mariadb', entities);
      await admin('mariadb', `DROP USER IF EXISTS '${USER}'@'%'`);
    });

    test('MariaDB: two concurrent actors, every statement the server executed is in the journal once, with actor and model; DELETE without WHERE is blocked', async () => {
      const [start] = await admin('mariadb', 'SELECT NOW(6) AS t');
      const dir = tempDir('qt-typeorm-flow-');
      const auditor = createAuditor({
        service: { name: 'typeorm-flow' },
        journal: { dir, mode: 'auto' },
        params: { mode: 'raw' },
        policy: NEVER_OPEN,
        onEvent: validatingListener(() => {}),
      });
      const ds = instrumentTypeorm(new typeorm.DataSource(dataSourceOptions('mariadb', { username: USER, password: '', entities: entities.schemas, poolSize: 4 })), auditor, {
        policy: NEVER_OPEN,
      });
      await ds.initialize();
      const blocked = await Promise.all(
        ['alice', 'bob'].map((id) => auditor.runWithContext({ actor: { type: 'human', id } }, () => actorFlow('mariadb', ds, entities, id))),
      );
      await ds.destroy();
      await auditor.close();

      const [state] = await admin('mariadb', 'SELECT @@global.general_log AS g, @@global.log_output AS o');
      assert.ok(Number(state?.g) === 1 && String(state?.o).includes('TABLE'), 'the general log stayed on for the whole flow (another process turned it off?)');
      const logged = await admin(
        'mariadb',
        "SELECT argument FROM mysql.general_log WHERE user_host LIKE ? AND command_type = 'Query' AND event_time >= ? ORDER BY event_time",
        [`${USER}[%`, start?.t],
      );
      const server = logged.map((r) => (Buffer.isBuffer(r.argument) ? r.argument.toString('utf8') : String(r.argument)));
      assert.ok(server.length >= 20, `the server logged ${server.length} statements of ${USER}`);

      const sent = checkFlow(typeorm, readJournal(dir), blocked, entities, USER);
      const asSent = sent.map((e) => {
        const values = e.statement?.params?.values;
        return values ? mysql2.format(e.statement?.text ?? '', values as Parameters<typeof mysql2.format>[1]) : (e.statement?.text ?? '');
      });
      // Exactly the statements the server executed, each once: TypeORM's start-up and catalog reads included.
      assert.deepEqual(sorted(asSent), sorted(server));
      assert.ok(!server.some((s) => s === `DELETE FROM \`${entities.tables.post}\``), 'the blocked DELETE never reached the server');
      const left = await admin('mariadb', `SELECT title FROM ${entities.tables.post} ORDER BY title`);
      assert.deepEqual(left.map((r) => r.title), ['alice second', 'bob second']);
    });
  });
}
