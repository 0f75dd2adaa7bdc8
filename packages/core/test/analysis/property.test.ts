/** Property tests: random and mutated SQL never makes analysis throw or hang, and never hides a destructive statement. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type Analysis, createAnalyzer, type Dialect, loadAnalyzers, SEVERITY } from '../../src/analysis/index.js';
import { dialectOf, loadCorpus } from './fixtures.js';

const corpus = loadCorpus();
const an = createAnalyzer({ cacheSize: 100 });
const dialects: Dialect[] = ['postgres', 'mysql', 'mariadb'];
// A hang guard, not a performance target (those live in npm run bench): generous enough that a GC
// pause or a busy 2-core machine cannot fail it, tight enough to catch runaway backtracking.
const TIME_LIMIT_MS = 3000;

before(async () => {
  await loadAnalyzers();
});

function check(sql: unknown, dialect: Dialect, extra: { backslashEscapes?: boolean; standardConformingStrings?: boolean } = {}): Analysis {
  const t0 = performance.now();
  const r = an.analyze(sql, { dialect, ...extra });
  const ms = performance.now() - t0;
  if (ms >= TIME_LIMIT_MS) assert.fail(`analysis took ${ms.toFixed(1)} ms for ${typeof sql === 'string' ? sql.slice(0, 200) : typeof sql}`);
  assert.ok(SEVERITY.includes(r.kind));
  assert.ok(Object.isFrozen(r));
  assert.equal(typeof r.fingerprint, 'string');
  if (r.kind === 'unknown') assert.ok(r.reasons.length > 0, 'unknown always says why');
  return r;
}

/** Fragments that stress the lexer: quotes, comments, executable comments, dollar quotes, separators. */
const fragment = fc.constantFrom("'", '"', '`', '$$', '$q$', '/*', '*/', '/*!', '/*M!', '--', '-- ', '#', ';', '\\', "E'", 'U&"', '(', ')', '\n', ' ', 'DROP TABLE x', 'DELETE FROM t', 'SELECT', 'WHERE 1=1', '?', '$1', '\u0000', '\uD800', '\uFFFD', '😀');

const mutated = fc
  .tuple(fc.constantFrom(...corpus), fc.array(fc.tuple(fc.nat(), fc.oneof(fragment, fc.string({ maxLength: 8 })), fc.nat({ max: 6 })), { maxLength: 4 }))
  .map(([e, edits]) => {
    let s = e.sql;
    for (const [pos, ins, del] of edits) {
      const p = s.length === 0 ? 0 : pos % (s.length + 1);
      s = s.slice(0, p) + ins + s.slice(p + del);
    }
    return { sql: s, dialect: dialectOf(e) };
  });

describe('property: analysis is total', () => {
  it('random strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fragment, { maxLength: 30 }).map((xs) => xs.join(''))), fc.constantFrom(...dialects), (sql, d) => {
        check(sql, d);
        check(sql, d, { backslashEscapes: false, standardConformingStrings: false });
      }),
      { numRuns: 1500 },
    );
  });
  it('mutated corpus SQL', () => {
    fc.assert(
      fc.property(mutated, ({ sql, dialect }) => {
        check(sql, dialect);
      }),
      { numRuns: 2000 },
    );
  });
  it('any value as sql', () => {
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom(...dialects), (x, d) => {
        check(x, d);
      }),
      { numRuns: 300 },
    );
  });
});

describe('property: destructive stays destructive', () => {
  const destructive = corpus.filter((e) => e.destructive === true);
  const pad = (d: Dialect): fc.Arbitrary<string> => {
    const base = ['', ' ', '\n', '\t', ' /* c */ ', '/**/', ' -- c\n', ';', '; ', ' ;\n'];
    return fc.constantFrom(...(d === 'postgres' ? [...base, ' /* a /* b */ */ '] : [...base, ' # c\n', ' /*+ hint */ ']));
  };
  it('with appended or prepended comments and whitespace', () => {
    fc.assert(
      fc.property(fc.constantFrom(...destructive).chain((e) => fc.tuple(fc.constant(e), pad(dialectOf(e)), pad(dialectOf(e)))), ([e, pre, post]) => {
        // A leading ';' makes an empty first statement, which both parsers drop: still the same statements.
        const d = dialectOf(e);
        const r = check(`${pre}${e.sql}${post}`, d);
        assert.ok(r.destructive || r.kind === 'unknown', `${e.id} became safe with ${JSON.stringify(pre)} … ${JSON.stringify(post)}: ${r.kind}`);
      }),
      { numRuns: 1000 },
    );
  });
  it('with keyword case changes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...destructive), fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }), (e, flips) => {
        // Flip the case of letters outside quotes only: the statement stays the same statement.
        let q: string | undefined;
        let k = 0;
        const sql = [...e.sql]
          .map((ch) => {
            if (q) {
              if (ch === q) q = undefined;
              return ch;
            }
            if (ch === "'" || ch === '"' || ch === '`' || ch === '$') {
              q = ch;
              return ch;
            }
            const f = flips[k++ % flips.length];
            return f ? ch.toUpperCase() : ch.toLowerCase();
          })
          .join('');
        if (/[$"]/.test(e.sql)) return; // case inside quoted identifiers or dollar tags matters
        const r = check(sql, dialectOf(e));
        assert.ok(r.destructive || r.kind === 'unknown', `${e.id}: ${sql}`);
      }),
      { numRuns: 500 },
    );
  });
});
