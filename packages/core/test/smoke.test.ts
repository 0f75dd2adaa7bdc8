import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditor } from '@querytrail/core';
test('smoke', async () => {
  const a = createAuditor({ service: { name: 's' }, journal: { dir: '/tmp/qt-smoke' } });
  await a.close();
  assert.ok(a.journal);
});
