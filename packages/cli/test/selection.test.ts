import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QuerytrailEvent } from '@querytrail/core';
import { parseTimeArg } from '../src/events/time-arg.js';
import { compileFilter, mayMatch } from '../src/filter/event-filter.js';
import { filterFromOptions } from '../src/filter/filter-options.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');

test('time arguments: RFC 3339 with a zone, a date, or a duration back from now; anything else is refused', () => {
  assert.equal(parseTimeArg('since', '2026-12-06T09:30:00Z', NOW), Date.parse('2026-12-06T09:30:00Z'));
  assert.equal(parseTimeArg('since', '2026-12-06T09:30:00.123+02:00', NOW), Date.parse('2026-12-06T07:30:00.123Z'));
  assert.equal(parseTimeArg('since', '2026-12-06', NOW), Date.parse('2026-12-06T00:00:00Z'));
  assert.equal(parseTimeArg('since', '90s', NOW), NOW - 90_000);
  assert.equal(parseTimeArg('since', '24h', NOW), NOW - 86_400_000);
  assert.equal(parseTimeArg('since', '2w', NOW), NOW - 14 * 86_400_000);
  for (const bad of ['2026-12-06 09:30', '2026-12-06T09:30:00', '5 minutes', '-1h', '2026-13-40']) {
    assert.throws(() => parseTimeArg('until', bad, NOW), new RegExp(`--until "${bad}"`), bad);
  }
});

const event = (over: Partial<QuerytrailEvent>): QuerytrailEvent =>
  ({
    schema: 'querytrail.event/1',
    event_id: '01',
    type: 'db.query',
    time: '2026-12-06T11:00:00.000001Z',
    source: { sdk: { name: '@querytrail/core', version: '0' }, service: { name: 'svc', instance_id: 'i' }, host: 'h', pid: 1 },
    ...over,
  }) as QuerytrailEvent;

const users = event({
  actor: { type: 'human', id: 'alice' },
  statement: { class: 'read', command: 'SELECT', text: 'SELECT email FROM app.users' },
  objects: [{ type: 'table', schema: 'app', name: 'users', columns: ['email'], access: 'read' }],
  sensitivity: { tags: ['pii'], matched: [{ object: 'app.users', column: 'email', rule_id: 'r', category: 'pii' }] },
  result: { outcome: 'success', rows_returned: 3 },
});

const matches = (options: Record<string, unknown>, e = users) => compileFilter(filterFromOptions(options, NOW)).matches(e);

test('selection: columns in every form, tables with or without schema, case-insensitive names, exact ids', () => {
  for (const column of ['email', 'users.email', 'app.users.email', 'APP.Users.Email']) assert.ok(matches({ column: [column] }), column);
  assert.ok(!matches({ column: ['ssn'] }));
  assert.ok(!matches({ column: ['orders.email'] }));
  assert.ok(matches({ table: ['USERS'] }) && matches({ table: ['app.users'] }) && !matches({ table: ['other.users'] }));
  assert.ok(matches({ actor: ['alice'] }) && !matches({ actor: ['Alice'] }), 'ids are exact');
  assert.ok(matches({ actor: ['bob', 'alice'] }), 'values of one option are alternatives');
  assert.ok(!matches({ actor: ['alice'], tag: ['pci'] }), 'different options must all match');
  assert.ok(matches({ type: ['db.query*'] }) && matches({ type: ['db.query'] }) && !matches({ type: ['db.query.blocked'] }));
  assert.ok(matches({ command: ['select'] }) && matches({ class: ['read'] }) && !matches({ destructive: true }));
  assert.ok(!matches({ until: '1h' }), 'until is exclusive: 1h back is 11:00, the event is just after');
  assert.ok(matches({ since: '2026-12-06T11:00:00Z', until: '30m' }), 'since is inclusive');
  assert.throws(() => matches({ since: '1h', until: '2h' }), /--since 1h is not before --until 2h: nothing can match/);
});

test('selection: a merged Prisma statement matches each actor and request it served', () => {
  const merged = event({ actor: { type: 'human', id: 'alice' }, request: { id: 'r1' }, orm: { name: 'prisma', callers: [{ actor_id: 'alice', request_id: 'r1' }, { actor_id: 'bob', request_id: 'r2' }] } });
  assert.ok(matches({ actor: ['bob'] }, merged) && matches({ request: ['r2'] }, merged) && !matches({ actor: ['carol'] }, merged));
});

test('byte prefilter: a line without any value of an id option is skipped unparsed; escaping follows JSON', () => {
  const { needles } = compileFilter(filterFromOptions({ actor: ['a"b', 'carol'], type: ['db.query*'] }, NOW));
  assert.ok(mayMatch(Buffer.from('{"type":"db.query","actor":{"id":"a\\"b"}}'), needles));
  assert.ok(!mayMatch(Buffer.from('{"type":"db.query","actor":{"id":"dave"}}'), needles));
  assert.ok(!mayMatch(Buffer.from('{"type":"sdk.start","actor":{"id":"carol"}}'), needles));
  assert.deepEqual(compileFilter(filterFromOptions({ table: ['users'], column: ['email'], command: ['select'], text: 'x' }, NOW)).needles, [], 'names compared without case do not narrow by bytes');
  const destructive = compileFilter(filterFromOptions({ destructive: true, tag: ['pii'] }, NOW));
  assert.ok(mayMatch(Buffer.from('{"statement":{"destructive":true},"sensitivity":{"tags":["pii"]}}'), destructive.needles));
  assert.ok(!mayMatch(Buffer.from('{"statement":{"destructive":false},"sensitivity":{"tags":["pii"]}}'), destructive.needles));
});

test('selection options: bad values name the option and what is accepted', () => {
  assert.throws(() => filterFromOptions({ decision: ['deny'] }, NOW), /--decision "deny": expected one of allow, alert, block, allow_override/);
  assert.throws(() => filterFromOptions({ 'actor-type': ['robot'] }, NOW), /--actor-type "robot"/);
  assert.throws(() => filterFromOptions({ actor: [''] }, NOW), /--actor: an empty value matches nothing/);
  assert.throws(() => filterFromOptions({ text: '' }, NOW), /--text: an empty string/);
});

test('safeText: control, zero-width and bidirectional characters are shown, not obeyed', async () => {
  const { safeText } = await import('../src/format/safe-text.js');
  assert.equal(safeText('a\nb\u001b[8mc'), 'a\\x0ab\\x1b[8mc');
  assert.equal(safeText('x\u202eyz\u200b\u2066'), 'x\\u202eyz\\u200b\\u2066');
  assert.equal(safeText('plain ü ✓'), 'plain ü ✓');
});
