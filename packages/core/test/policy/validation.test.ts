/** Validation: every bad field reported with its exact path; files prefixed with their path. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, QuerytrailError } from '../../src/errors.js';
import { definePolicy, loadPolicy, type PolicyInput, PolicyConfigError } from '../../src/policy/index.js';

function issues(input: unknown): string[] {
  try {
    definePolicy(input as PolicyInput);
  } catch (err) {
    assert.ok(err instanceof PolicyConfigError);
    assert.ok(err instanceof ConfigError, 'a ConfigError');
    assert.ok(err instanceof QuerytrailError);
    assert.equal((err as ConfigError).code, 'QT_ERR_CONFIG');
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected a PolicyConfigError');
}

const dir = mkdtempSync(join(tmpdir(), 'qt-policy-'));

describe('policy validation', () => {
  it('names the path of a bad time zone (windows[1].timezone)', () => {
    const got = issues({
      windows: [
        { id: 'ok', days: ['sat'], start: '22:00', end: '06:00', timezone: 'Europe/Berlin' },
        { id: 'typo', days: ['sun'], start: '01:00', end: '05:00', timezone: 'Europe/Berlim' },
      ],
    });
    assert.deepEqual(got, ['windows[1].timezone: unknown time zone "Europe/Berlim"']);
  });

  it('reports every bad field at once, not only the first', () => {
    const got = issues({
      mode: 'enforcing',
      windows: [{ id: 'w', days: ['mon', 'frday'], start: '25:00', end: '6pm', timezone: 'Mars/Olympus' }],
      sensitive: [{ category: 'PII', columns: ['users.email'] }],
      rules: [{ id: 'r1', action: 'deny', windows: ['nope'], scope: { envv: 'prod' } }],
      bulk: { perActor: { alert: 0 } },
    });
    assert.deepEqual(got.sort(), [
      'bulk.perActor.alert: expected a positive integer',
      'bulk.perActor.windowSeconds: required',
      'mode: unknown mode "enforcing" (enforce, monitor)',
      'rules[0].action: unknown action "deny" (alert, block)',
      'rules[0].scope.envv: unknown field',
      'rules[0].windows[0]: unknown window "nope"',
      'sensitive[0].category: invalid category "PII" (lower case letters, digits, _ . -)',
      'sensitive[0].columns[0]: expected schema.table.column (3 parts, * as wildcard), got "users.email" with 2 parts',
      'windows[0].days[1]: unknown day "frday" (mon, tue, wed, thu, fri, sat, sun)',
      'windows[0].end: invalid time "6pm" (expected HH:MM, 00:00 to 24:00)',
      'windows[0].start: invalid time "25:00" (expected HH:MM, 00:00 to 24:00)',
      'windows[0].timezone: unknown time zone "Mars/Olympus"',
    ]);
  });

  it('rejects bad column patterns with the index in the list', () => {
    const got = issues({
      sensitive: [{ id: 's', category: 'pci', columns: ['public.orders.card_number', 'a.b.c.d', 'public..x', 'public."Users.email', 'public.my table.x', ''] }],
    });
    assert.deepEqual(got, [
      'sensitive[0].columns[1]: expected schema.table.column (3 parts, * as wildcard), got "a.b.c.d" with 4 parts',
      'sensitive[0].columns[2]: empty part in "public..x"',
      'sensitive[0].columns[3]: unterminated quote in "public.\\"Users.email"',
      'sensitive[0].columns[4]: whitespace in "public.my table.x" (quote the name: "my table")',
      'sensitive[0].columns[5]: empty pattern',
    ]);
  });

  it('checks window shapes, one-off ranges and cross references', () => {
    const got = issues({
      windows: [
        { id: 'a', days: ['mon'], start: '10:00' },
        { id: 'a', from: '2026-04-01T20:00:00Z', to: '2026-04-01T19:00:00Z' },
        { id: 'c', from: '2026-04-01T20:00', to: '2026-04-01T22:00:00Z' },
        { id: 'd', days: ['mon'], start: '10:00', end: '10:00', timezone: 'UTC' },
        { id: 'e', days: ['mon'], start: '10:00', end: '11:00', timezone: 'UTC', from: '2026-04-01T20:00:00Z' },
        { id: 'f', from: '2026-02-30T20:00:00Z', to: '2026-03-01T20:00:00Z' },
      ],
      destructive: { windows: ['a', 'zz'] },
    });
    assert.deepEqual(got, [
      'windows[5].from: invalid date-time "2026-02-30T20:00:00Z" (expected YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])',
      'windows[0].end: required for a recurring window',
      'windows[0].timezone: required for a recurring window',
      'windows[1].id: duplicate window id "a"',
      'windows[1].to: must be after from',
      'windows[2].from: has no offset: add Z or ±HH:MM, or give the window a timezone',
      'windows[3].end: equals start (use 00:00 to 24:00 for a whole day)',
      'windows[4]: a window is either recurring (days, start, end) or one-off (from, to), not both',
      'destructive.windows[1]: unknown window "zz"',
    ]);
  });

  it('rejects unknown top-level fields, empty excepts, duplicate rule ids, alert rules with windows', () => {
    const got = issues({
      destructve: {},
      rules: [
        { id: 'r', action: 'block', except: {} },
        { id: 'r', action: 'alert', approvals: true },
        { id: 'destructive', action: 'block' },
      ],
      onAlert: 'not a function',
      views: { 'a.b.c': { from: ['x'] } },
    });
    assert.deepEqual(got, [
      'views["a.b.c"]: expected "table" or "schema.table", got "a.b.c"',
      'onAlert: expected a function',
      'destructve: unknown field',
      'rules[0].except: empty: it would exempt every statement',
      'rules[1].id: duplicate rule id "r"',
      'rules[1].action: windows and approvals relax a block; an alert rule cannot use them',
      'rules[2].id: duplicate rule id "destructive"',
    ]);
  });

  it('reports the fitting branch of a value-or-list field', () => {
    const got = issues({
      onAlert: ['x'],
      sensitive: [{ category: 'pii', columns: 'users.email' }],
      rules: [{ id: 'r', action: 'block', windows: 'weekly', match: { sensitive: ['pii', 'PCI'], kinds: 'select' }, scope: { env: [] } }],
    });
    assert.deepEqual(got, [
      'sensitive[0].columns: expected schema.table.column (3 parts, * as wildcard), got "users.email" with 2 parts',
      'rules[0].match.kinds: unknown statement kind "select" (read, write, ddl, dcl, admin, tcl, exec, unknown)',
      'rules[0].match.sensitive[1]: invalid category "PCI" (lower case letters, digits, _ . -)',
      'rules[0].scope.env: must not be empty',
      'rules[0].windows: expected a list of window ids or "*"',
      'onAlert[0]: expected a function',
    ]);
  });

  it('the error message lists every problem, one per line, and path is the first', () => {
    try {
      definePolicy({ mode: 'x', windows: [{ id: 'w', days: ['mon'], start: '01:00', end: '02:00', timezone: 'Nope/Nope' }] } as unknown as PolicyInput);
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.path, 'mode');
      assert.equal(err.message, 'mode: unknown mode "x" (enforce, monitor)\nwindows[0].timezone: unknown time zone "Nope/Nope"');
    }
  });

  it('a valid policy compiles, and a compiled policy passes through definePolicy unchanged', () => {
    const p = definePolicy({ mode: 'monitor', windows: [{ id: 'w', days: ['saturday', 'sun'], start: '00:00', end: '24:00', timezone: 'America/New_York' }] });
    assert.equal(p.mode, 'monitor');
    assert.equal(definePolicy(p), p);
    assert.ok(p.windows.has('w'));
  });

  it('loadPolicy reads YAML and prefixes errors with the file path', () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(
      file,
      [
        'mode: enforce',
        'windows:',
        '  - id: weekly',
        '    days: [sat]',
        '    start: "22:00"',
        '    end: "06:00"',
        '    timezone: Europe/Berlin',
        '  - id: typo',
        '    days: [sun]',
        '    start: "01:00"',
        '    end: "05:00"',
        '    timezone: Europe/Berlim',
      ].join('\n'),
    );
    assert.throws(() => loadPolicy(file), (err: unknown) => {
      assert.ok(err instanceof PolicyConfigError);
      assert.equal(err.message, `${file}: windows[1].timezone: unknown time zone "Europe/Berlim"`);
      assert.equal(err.file, file);
      return true;
    });
  });

  it('loadPolicy reads JSON, adds code-only extras, and reports syntax errors', () => {
    const file = join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ sensitive: [{ category: 'pii', columns: '*.users.email' }] }));
    let called = 0;
    const p = loadPolicy(file, { onAlert: () => void called++ });
    assert.equal(p.mode, 'enforce');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mode: enforce\nmode: monitor\n');
    assert.throws(() => loadPolicy(bad), /bad\.yaml: line 2, column 1: invalid YAML: Map keys must be unique/);
    const txt = join(dir, 'policy.txt');
    writeFileSync(txt, 'x');
    assert.throws(() => loadPolicy(txt), /policy\.txt: \(file\): unknown extension "\.txt"/);
    assert.throws(() => loadPolicy(join(dir, 'missing.yaml')), /missing\.yaml: \(file\): cannot read/);
  });
});

describe('docs/policy.md', () => {
  it('the complete example policy file loads', () => {
    const md = readFileSync(fileURLToPath(new URL('../../../../docs/policy.md', import.meta.url)), 'utf8');
    const block = /<!-- policy-example:start -->\n```yaml\n([\s\S]*?)```\n<!-- policy-example:end -->/.exec(md);
    assert.ok(block, 'the example block is present');
    const file = join(dir, 'example.yaml');
    writeFileSync(file, block[1]!);
    const p = loadPolicy(file);
    assert.equal(p.mode, 'enforce');
    assert.deepEqual([...p.windows.keys()], ['sat-night', 'us-evening', 'release-42']);
  });
});
