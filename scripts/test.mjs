// `npm test`: build, typecheck, lint, make sure the database servers are up, then run every test
// against the real servers with node's test runner. Pass file paths to run only those.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function run(label, cmd, args) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\nnpm test: ${label} failed (exit ${r.status}).`);
    process.exit(r.status || 1);
  }
  console.log(`npm test: ${label} ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const only = process.argv.slice(2);
if (only.length === 0) {
  run('build', 'npm', ['run', '--silent', 'build']);
  run('prisma generate', process.execPath, ['scripts/prisma-generate.mjs']);
  run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json']);
  run('typecheck bench', 'npx', ['tsc', '-p', 'bench/tsconfig.json']);
  run('lint', 'npx', ['biome', 'lint', '.']);
}

const problems = await ensureServices();
if (problems.length > 0) {
  console.error('\nnpm test: the tests need real database servers, and these could not be had:');
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}

const files = only.length > 0 ? only : findTests(join(root, 'packages')).sort();
const r = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts/summary-reporter.mjs')}`,
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit', env: { ...process.env, QUERYTRAIL_REPO_ROOT: root } },
);
process.exit(r.status ?? 1);
