import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePgLog } from '../support/server-log.js';

/**
 * The flow tests compare the journal with PostgreSQL's own log; a misread log fails them for no fault
 * of querytrail's. This stretch is the one CI met: the checkpointer's line (no user@db, `%q` ends its
 * prefix) right after a statement was read as the statement's second line.
 */
const LOG = [
  "2026-12-06 21:40:39.879 UTC [11880] qt_knex@test LOG:  statement: RELEASE SAVEPOINT trx4;",
  '2026-12-06 21:40:39.880 UTC [2257] LOG:  checkpoint starting: time',
  '2026-12-06 21:40:39.881 UTC [11881] qt_knex@test LOG:  execute <unnamed>: select "title"',
  '\tfrom "t" where "title" like $1',
  "2026-12-06 21:40:39.881 UTC [11881] qt_knex@test DETAIL:  parameters: $1 = 'a''b:%', $2 = NULL",
  '2026-12-06 21:40:39.882 UTC [11882] someone_else@test LOG:  statement: SELECT 1',
  '\tcontinued, but not ours',
  '2026-12-06 21:40:39.883 UTC [11880] qt_knex@test ERROR:  relation "nope" does not exist at character 15',
  '\tsecond line of the error, not of the statement before it',
  '2026-12-06 21:40:39.884 UTC [11880] qt_knex@test LOG:  statement: COMMIT',
  '',
].join('\n');

test('parsePgLog: a background process line ends the statement before it; tab lines continue it; other roles and non-statements are left out', () => {
  assert.deepEqual(parsePgLog(LOG, 'qt_knex'), [
    { connection: '11880', text: 'RELEASE SAVEPOINT trx4;', params: [], command: 'statement' },
    { connection: '11881', text: 'select "title"\nfrom "t" where "title" like $1', params: ["a'b:%", null], command: 'execute' },
    { connection: '11880', text: 'COMMIT', params: [], command: 'statement' },
  ]);
});
