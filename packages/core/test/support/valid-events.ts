import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { QuerytrailEvent } from '../../src/event/types.js';
import { assertValidEvent } from './event-schema.js';

/**
 * Wraps an onEvent listener so every event a test emits is checked against docs/event.schema.json.
 * The auditor swallows listener errors (a listener never breaks a query), so failures are collected
 * and asserted when the test file ends.
 */
export function validatingListener(inner: (e: QuerytrailEvent) => void): (e: QuerytrailEvent) => void {
  const invalid: string[] = [];
  let checked = 0;
  after(() => {
    assert.deepEqual(invalid, [], `${invalid.length} of ${checked} emitted events do not match the event schema`);
  });
  return (e) => {
    checked++;
    try {
      assertValidEvent(e);
    } catch (err) {
      invalid.push((err as Error).message);
    }
    inner(e);
  };
}
