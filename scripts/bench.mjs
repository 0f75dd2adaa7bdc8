// `npm run bench` (not part of `npm test`): builds @querytrail/core (the benchmark imports it as an
// application would, from its dist), makes sure PostgreSQL and MariaDB are up, then runs bench/run.ts
// through tsx. That writes docs/benchmarks.md and docs/benchmarks.json. See docs/benchmarks.md for
// the method and the BENCH_* variables (BENCH_QUICK=1 for a one-minute smoke run).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ensureServices } from './services.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

function build() {
  const attempts = Number(process.env.BENCH_BUILD_ATTEMPTS ?? 3);
  for (let i = 1; i <= attempts; i++) {
    const t0 = Date.now();
    const r = spawnSync('npm', ['run', '--silent', 'build', '--workspace', '@querytrail/core'], { stdio: 'inherit' });
    if (r.status === 0) {
      console.log(`bench: built @querytrail/core (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return;
    }
    if (i < attempts) {
      // Core may be mid-change by someone else: give it a minute.
      console.error(`bench: building @querytrail/core failed (exit ${r.status}); retrying in 60 s (${i}/${attempts})`);
      spawnSync('sleep', ['60']);
    }
  }
  console.error('bench: @querytrail/core does not build; fix the build (or set BENCH_SKIP_BUILD=1 to measure the existing dist).');
  process.exit(1);
}

if (process.env.BENCH_SKIP_BUILD !== '1') build();

const problems = await ensureServices();
if (problems.length > 0) {
  console.error('\nbench: the benchmark needs the real database servers, and these could not be had:');
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}

const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
