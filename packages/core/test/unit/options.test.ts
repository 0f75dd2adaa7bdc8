import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, createAuditor, type AuditorOptions, QuerytrailError } from '@querytrail/core';

function configError(options: unknown): ConfigError {
  try {
    createAuditor(options as AuditorOptions);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err instanceof QuerytrailError);
    assert.equal(err.code, 'QT_ERR_CONFIG');
    return err;
  }
  assert.fail('createAuditor accepted invalid options');
}

test('bad options are rejected at start with the path of the bad field', () => {
  assert.equal(configError(undefined).path, 'options');
  assert.equal(configError({ journal: false }).path, 'service');
  assert.equal(configError({ service: { name: '' }, journal: false }).path, 'service.name');
  assert.equal(configError({ service: { name: 'x', env: 3 }, journal: false }).path, 'service.env');
  assert.equal(configError({ service: { name: 'x' } }).path, 'journal');
  assert.equal(configError({ service: { name: 'x' }, journal: { dir: '' } }).path, 'journal.dir');
  assert.equal(configError({ service: { name: 'x' }, journal: { dir: '/tmp/x', mode: 'fast' } }).path, 'journal.mode');
  assert.equal(configError({ service: { name: 'x' }, journal: { dir: '/tmp/x', segmentMaxBytes: -1 } }).path, 'journal.segmentMaxBytes');
  assert.equal(configError({ service: { name: 'x' }, journal: { dir: '/tmp/x', groupCommitMs: 0.5 } }).path, 'journal.groupCommitMs');
  assert.equal(configError({ service: { name: 'x' }, journal: { dir: '/tmp/x', lingerMs: -1 } }).path, 'journal.lingerMs');
  assert.match(configError({ service: { name: 'x' }, journal: { dir: '/tmp/x', groupCommitMs: 200, syncTimeoutMs: 100 } }).message, /groupCommitMs: must be below journal\.syncTimeoutMs \(100 ms\)/);
  const e = configError({ service: { name: 'x' }, journal: false, params: { mode: 'plain' } });
  assert.equal(e.path, 'params.mode');
  assert.match(e.message, /params\.mode: unknown mode "plain"/);
  assert.equal(configError({ service: { name: 'x' }, journal: false, onEvent: 'yes' }).path, 'onEvent');
});

test('errors keep instanceof across copies through a Symbol.for brand', () => {
  const foreign = Object.assign(new Error('x'), { [Symbol.for('querytrail.error')]: true, code: 'QT_ERR_CONFIG' });
  assert.ok(foreign instanceof QuerytrailError);
  assert.ok(!(new Error('plain') instanceof QuerytrailError));
});

test('an internal analysis failure never makes a statement vanish: it is recorded as unknown, and policy treats it so', async () => {
  const { loadAnalyzers, QueryBlockedError: Blocked } = await import('@querytrail/core');
  await loadAnalyzers();
  const events: import('@querytrail/core').QuerytrailEvent[] = [];
  const warn = process.emitWarning;
  process.emitWarning = () => undefined;
  try {
    const a = createAuditor({ service: { name: 'x' }, journal: false, onEvent: (e) => events.push(e) });
    (a as unknown as { catalogs: { get(): never } }).catalogs.get = () => {
      throw new Error('boom');
    };
    a.begin({ text: 'SELECT 1', db: { system: 'postgresql', driver: 'pg' } }).succeed();
    const q = events.find((e) => e.type === 'db.query');
    assert.equal(q?.statement?.class, 'unknown');
    assert.equal(q?.statement?.text, 'SELECT 1');
    const enforcing = createAuditor({ service: { name: 'x' }, journal: false, policy: { version: 1, mode: 'enforce' } });
    (enforcing as unknown as { catalogs: { get(): never } }).catalogs.get = () => {
      throw new Error('boom');
    };
    assert.throws(() => enforcing.begin({ text: 'SELECT 1', db: { system: 'postgresql', driver: 'pg' } }), Blocked);
    await a.close();
    await enforcing.close();
  } finally {
    process.emitWarning = warn;
  }
});
