import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TypeORM1 from 'typeorm';

/** The TypeORM API the tests use; 0.3.x has the same names (its types are cast to 1.x's). */
export type TypeormModule = typeof TypeORM1;

export interface TypeormVersion {
  /** The package it is installed as (`typeorm`, or the npm alias `typeorm-0.3`). */
  readonly pkg: string;
  /** Its package.json version, for test names. */
  readonly version: string;
  /** Suffix for table and role names, so the versions' tests never share an object. */
  readonly tag: string;
  readonly typeorm: TypeormModule;
}

/** The TypeORM versions every test runs against (see docs/typeorm.md, "TypeORM versions"). */
const PACKAGES = [
  { pkg: 'typeorm', tag: 'v1' },
  { pkg: 'typeorm-0.3', tag: 'v03' },
] as const;

const require = createRequire(import.meta.url);

export const TYPEORM_VERSIONS: readonly TypeormVersion[] = await Promise.all(
  PACKAGES.map(async ({ pkg, tag }) => ({
    pkg,
    tag,
    // Its exports map has no ./package.json: read the file next to its main entry.
    version: (JSON.parse(readFileSync(join(dirname(require.resolve(pkg)), 'package.json'), 'utf8')) as { version: string }).version,
    // Loaded by name, as an application would: each version is its own copy of every class.
    typeorm: (await import(pkg)) as TypeormModule,
  })),
);
