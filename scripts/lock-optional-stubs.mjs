// The registry reachable here serves only this platform's builds of packages that ship native
// binaries (biome, rollup, esbuild, …): other platforms' optional packages answer 404, so `npm install`
// leaves them out of package-lock.json, and `npm ci` then refuses the lock as out of sync. This adds
// an entry for each such optional dependency, marked optional, so `npm ci` sees a complete lock and
// skips them as it would on any other platform. Run after `npm install` changes the lock.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  if (!path.startsWith('node_modules/') && path !== '') continue;
  const optional = meta.optionalDependencies ?? {};
  for (const [name, spec] of Object.entries(optional)) {
    const base = path === '' ? '' : `${path}/`;
    const nested = `${base}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (pkgs[nested] || pkgs[hoisted]) continue;
    const version = /^\d+\.\d+\.\d+/.test(spec) ? spec : spec.replace(/^[\^~=]/, '');
    pkgs[hoisted] = { version, optional: true, ...(meta.dev ? { dev: true } : {}), ...(meta.devOptional ? { devOptional: true } : {}) };
    added++;
  }
}
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-optional-stubs: ${added} optional platform package(s) recorded`);
if (!existsSync(new URL('../node_modules', import.meta.url))) console.log('(run npm install first)');
