// `prisma generate` for every schema in the repo (test fixtures and the example), so a clean checkout
// typechecks: the generated clients are build output and are not committed. Generate needs no schema
// engine, which cannot be downloaded here: any executable stands in for it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCHEMAS = ['packages/prisma-ext/test/fixtures/postgres.prisma', 'packages/prisma-ext/test/fixtures/mariadb.prisma', 'examples/prisma/schema.prisma'];

export function generatePrismaClients() {
  for (const schema of SCHEMAS) {
    execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', join(root, schema)], {
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) generatePrismaClients();
