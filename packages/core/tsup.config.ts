import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/pg.ts', 'src/mysql2.ts', 'src/mariadb.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
