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
