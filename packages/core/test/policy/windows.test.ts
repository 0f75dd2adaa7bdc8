/** Change windows: edges, crossing midnight, daylight-saving changes, one-off ranges. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definePolicy } from '../../src/policy/index.js';
import { localToUtc, offsetAt } from '../../src/policy/time.js';
import { at } from './helpers.js';

const policy = definePolicy({
  windows: [
    // Saturday night in Berlin, across midnight.
    { id: 'berlin-night', days: ['sat'], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' },
    // Sunday 01:00–04:00 Berlin: contains the hour skipped (03-29) or repeated (10-25).
    { id: 'berlin-sun', days: ['sun'], start: '01:00', end: '04:00', timezone: 'Europe/Berlin' },
    // Weekdays 09:00–17:00 New York.
    { id: 'ny-day', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', timezone: 'America/New_York' },
    { id: 'release', from: '2026-04-01T20:00:00Z', to: '2026-04-01T23:00:00Z' },
    { id: 'local-release', from: '2026-10-25T02:30', to: '2026-10-25T03:30', timezone: 'Europe/Berlin' },
  ],
});
const w = (id: string) => policy.windows.get(id)!;

describe('time-zone arithmetic', () => {
  it('offsets follow the daylight-saving changes', () => {
    assert.equal(offsetAt('Europe/Berlin', at('2026-03-29T00:59:59Z')), 3_600_000);
    assert.equal(offsetAt('Europe/Berlin', at('2026-03-29T01:00:00Z')), 7_200_000);
    assert.equal(offsetAt('Europe/Berlin', at('2026-10-25T00:59:59Z')), 7_200_000);
    assert.equal(offsetAt('Europe/Berlin', at('2026-10-25T01:00:00Z')), 3_600_000);
    assert.equal(offsetAt('America/New_York', at('2026-03-08T07:00:00Z')), -4 * 3_600_000);
    assert.equal(offsetAt('America/New_York', at('2026-03-08T06:59:59Z')), -5 * 3_600_000);
  });
  it('local → UTC: repeated times resolve to the first pass, skipped times move forward', () => {
    const local = (s: string) => Date.parse(`${s}Z`);
    assert.equal(new Date(localToUtc('Europe/Berlin', local('2026-10-25T02:30:00'))).toISOString(), '2026-10-25T00:30:00.000Z');
    assert.equal(new Date(localToUtc('Europe/Berlin', local('2026-10-25T02:30:00'), true)).toISOString(), '2026-10-25T01:30:00.000Z');
    assert.equal(new Date(localToUtc('Europe/Berlin', local('2026-03-29T02:30:00'))).toISOString(), '2026-03-29T01:30:00.000Z');
    assert.equal(new Date(localToUtc('America/New_York', local('2026-11-01T01:30:00'))).toISOString(), '2026-11-01T05:30:00.000Z');
  });
});

describe('recurring windows', () => {
  it('start is inclusive, end exclusive (winter: Berlin = UTC+1)', () => {
    const win = w('berlin-night');
    assert.equal(win.contains(at('2026-01-17T20:59:59.999Z')), false, 'Sat 21:59:59.999 Berlin');
    assert.equal(win.contains(at('2026-01-17T21:00:00Z')), true, 'Sat 22:00 Berlin');
    assert.equal(win.contains(at('2026-01-17T23:30:00Z')), true, 'Sun 00:30 Berlin: the Saturday occurrence');
    assert.equal(win.contains(at('2026-01-18T04:59:59.999Z')), true, 'Sun 05:59:59.999 Berlin');
    assert.equal(win.contains(at('2026-01-18T05:00:00Z')), false, 'Sun 06:00 Berlin');
    assert.equal(win.contains(at('2026-01-18T21:30:00Z')), false, 'Sunday night is not Saturday night');
    assert.equal(win.contains(at('2026-01-16T21:30:00Z')), false, 'Friday night either');
    assert.deepEqual(win.occurrence(at('2026-01-17T23:30:00Z')), { id: 'berlin-night', start: '2026-01-17T21:00:00.000Z', end: '2026-01-18T05:00:00.000Z' });
  });

  it('spring forward (Europe/Berlin 2026-03-29): wall-clock edges, the night is one hour shorter', () => {
    const win = w('berlin-night');
    // Sat 22:00 CET = 21:00Z; Sun 06:00 CEST = 04:00Z: 7 hours instead of 8.
    assert.equal(win.contains(at('2026-03-28T20:59:59Z')), false);
    assert.equal(win.contains(at('2026-03-28T21:00:00Z')), true);
    assert.equal(win.contains(at('2026-03-29T03:59:59Z')), true, '05:59:59 CEST');
    assert.equal(win.contains(at('2026-03-29T04:00:00Z')), false, '06:00 CEST');
    assert.deepEqual(win.occurrence(at('2026-03-29T01:30:00Z')), { id: 'berlin-night', start: '2026-03-28T21:00:00.000Z', end: '2026-03-29T04:00:00.000Z' });
    const sun = w('berlin-sun');
    // 01:00 CET = 00:00Z; 02:00–03:00 does not exist; 04:00 CEST = 02:00Z.
    assert.equal(sun.contains(at('2026-03-28T23:59:59Z')), false);
    assert.equal(sun.contains(at('2026-03-29T00:00:00Z')), true);
    assert.equal(sun.contains(at('2026-03-29T01:00:00Z')), true, '03:00 CEST, right after the gap');
    assert.equal(sun.contains(at('2026-03-29T01:59:59Z')), true);
    assert.equal(sun.contains(at('2026-03-29T02:00:00Z')), false, '04:00 CEST');
  });

  it('fall back (Europe/Berlin 2026-10-25): the night is one hour longer', () => {
    const win = w('berlin-night');
    // Sat 22:00 CEST = 20:00Z; Sun 06:00 CET = 05:00Z: 9 hours.
    assert.equal(win.contains(at('2026-10-24T19:59:59Z')), false);
    assert.equal(win.contains(at('2026-10-24T20:00:00Z')), true);
    assert.equal(win.contains(at('2026-10-25T04:59:59Z')), true);
    assert.equal(win.contains(at('2026-10-25T05:00:00Z')), false);
    assert.deepEqual(win.occurrence(at('2026-10-25T01:30:00Z')), { id: 'berlin-night', start: '2026-10-24T20:00:00.000Z', end: '2026-10-25T05:00:00.000Z' });
    const sun = w('berlin-sun');
    // 01:00 CEST = 23:00Z (Sat); 04:00 CET = 03:00Z: 4 hours, both passes of 02:xx inside.
    assert.equal(sun.contains(at('2026-10-24T22:59:59Z')), false);
    assert.equal(sun.contains(at('2026-10-24T23:00:00Z')), true);
    assert.equal(sun.contains(at('2026-10-25T00:30:00Z')), true, '02:30 CEST');
    assert.equal(sun.contains(at('2026-10-25T01:30:00Z')), true, '02:30 CET');
    assert.equal(sun.contains(at('2026-10-25T02:59:59Z')), true);
    assert.equal(sun.contains(at('2026-10-25T03:00:00Z')), false);
  });

  it('America/New_York weekdays across its own changes (2026-03-08, 2026-11-01)', () => {
    const win = w('ny-day');
    // Friday 2026-03-06, EST (UTC-5): 09:00 = 14:00Z.
    assert.equal(win.contains(at('2026-03-06T13:59:59Z')), false);
    assert.equal(win.contains(at('2026-03-06T14:00:00Z')), true);
    assert.equal(win.contains(at('2026-03-06T21:59:59Z')), true);
    assert.equal(win.contains(at('2026-03-06T22:00:00Z')), false);
    // Monday 2026-03-09, EDT (UTC-4): 09:00 = 13:00Z.
    assert.equal(win.contains(at('2026-03-09T12:59:59Z')), false);
    assert.equal(win.contains(at('2026-03-09T13:00:00Z')), true);
    assert.equal(win.contains(at('2026-03-09T20:59:59Z')), true);
    assert.equal(win.contains(at('2026-03-09T21:00:00Z')), false);
    // Monday 2026-11-02, EST again.
    assert.equal(win.contains(at('2026-11-02T13:30:00Z')), false);
    assert.equal(win.contains(at('2026-11-02T14:00:00Z')), true);
    // Saturday: no window.
    assert.equal(win.contains(at('2026-03-07T15:00:00Z')), false);
  });
});

describe('one-off windows', () => {
  it('from inclusive, to exclusive', () => {
    const win = w('release');
    assert.equal(win.contains(at('2026-04-01T19:59:59.999Z')), false);
    assert.equal(win.contains(at('2026-04-01T20:00:00Z')), true);
    assert.equal(win.contains(at('2026-04-01T22:59:59.999Z')), true);
    assert.equal(win.contains(at('2026-04-01T23:00:00Z')), false);
    assert.deepEqual(win.occurrence(0), { id: 'release', start: '2026-04-01T20:00:00.000Z', end: '2026-04-01T23:00:00.000Z' });
  });
  it('local times with a zone: a repeated time starts at its first pass, ends at its last', () => {
    assert.deepEqual(w('local-release').occurrence(0), { id: 'local-release', start: '2026-10-25T00:30:00.000Z', end: '2026-10-25T02:30:00.000Z' });
  });
});
