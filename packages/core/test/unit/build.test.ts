import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SDK_VERSION } from '@querytrail/core';

const pkgDir = fileURLToPath(new URL('../../', import.meta.url));

test('SDK_VERSION matches package.json', () => {
  const pkg = JSON.parse(readFileSync(`${pkgDir}package.json`, 'utf8')) as { version: string };
  assert.equal(SDK_VERSION, pkg.version);
});

test('the built ESM and CJS entry points load and share one context store', () => {
  // One process loads both builds: a context entered through the CJS copy is seen by the ESM copy.
  const script = `
    const { createRequire } = require('node:module');
    const cjs = require('@querytrail/core');
    import('@querytrail/core').then((esm) => {
      if (esm.createAuditor === cjs.createAuditor) throw new Error('expected two copies');
      const seen = cjs.runWithContext({ actor: { type: 'human', id: 'dual' } }, () => esm.currentContext());
      const blocked = new cjs.QueryBlockedError('x');
      console.log(JSON.stringify({ actor: seen && seen.actor.id, crossInstanceof: blocked instanceof esm.QueryBlockedError }));
    });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: pkgDir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { actor: 'dual', crossInstanceof: true });
});

test('the /pg and /mysql2 subpath exports load in both formats', () => {
  const script = `
    const pg = require('@querytrail/core/pg');
    const my = require('@querytrail/core/mysql2');
    Promise.all([import('@querytrail/core/pg'), import('@querytrail/core/mysql2')]).then(([epg, emy]) => {
      console.log([typeof pg.instrumentPg, typeof my.instrumentMysql2, typeof epg.instrumentPg, typeof emy.instrumentMysql2].join(','));
    });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: pkgDir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'function,function,function,function');
});
