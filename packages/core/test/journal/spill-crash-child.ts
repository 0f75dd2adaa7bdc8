// The process that gets killed while its spill holds records (spill-crash.test.ts). Run as
//   node --conditions=source --import tsx spill-crash-child.ts <journal dir> <statements> <spilled|chaining>
// It emits the statements in one synchronous burst (queue bound 500, so nearly all of them spill),
// prints `EMITTED <n>`, then `SPILLED` as soon as a spill file holds bytes (`spilled`), or once its
// writer has chained a few thousand spilled records while the spill still holds more (`chaining`),
// and waits for the parent's SIGKILL (a safety timer ends it after 30 s if the parent has gone).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createAuditor, listSegments } from '@querytrail/core';
import { markedQuery, spillDir, spillFiles, waitFor } from './spill-support.js';

const [dir, countArg, when] = process.argv.slice(2);
const count = Number(countArg);
if (!dir || !Number.isInteger(count) || count <= 0 || (when !== 'spilled' && when !== 'chaining')) {
  console.error('usage: spill-crash-child.ts <journal dir> <statements> <spilled|chaining>');
  process.exit(2);
}
setTimeout(() => process.exit(3), 30_000).unref();
setInterval(() => {}, 1000); // alive until killed, even once the writer is idle

const auditor = createAuditor({ service: { name: 'spill-crash-child' }, journal: { dir, maxQueuedEvents: 500 }, params: { mode: 'raw' }, catalog: { mode: false } });
await auditor.ready();
await auditor.flush();
for (let i = 0; i < count; i++) markedQuery(auditor, i);
process.stdout.write(`EMITTED ${count}\n`);
const spilledBytes = (): number => spillFiles(dir).reduce((n, f) => n + statSync(join(spillDir(dir), f)).size, 0);
// Bytes in the journal's segments: the 500 statements queued before the spill started take about 0.4 MB.
const journalBytes = (): number => listSegments(dir).reduce((n, s) => n + statSync(join(dir, s.file)).size, 0);
await waitFor(() => spilledBytes() > 0 && (when === 'spilled' || journalBytes() > 4 * 1024 * 1024), 'spilled bytes', 25_000);
process.stdout.write('SPILLED\n');
