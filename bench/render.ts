/**
 * Re-renders docs/benchmarks.md from docs/benchmarks.json (no measurement): after editing
 * bench/notes.md or the report's wording.
 *   node --import tsx bench/render.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMarkdown } from './report.js';
import type { BenchReport } from './run.js';

const docs = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'docs');
const report = JSON.parse(readFileSync(join(docs, 'benchmarks.json'), 'utf8')) as BenchReport;
writeFileSync(join(docs, 'benchmarks.md'), renderMarkdown(report));
console.log('docs/benchmarks.md re-rendered from docs/benchmarks.json');
