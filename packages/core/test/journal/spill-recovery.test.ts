// A spill left by a process that died before its writer chained it (docs/integrity.md "Crash
// recovery"): the next start chains its records right after the genesis, which says so; a frame torn
// by the crash is set aside and counted; records the dead process had chained already are not chained
// twice. The spill files here are built by hand in the documented frame format from real journal lines.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import { assertValidEvent } from '../support/event-schema.js';
import { tempDir } from '../support/temp-dir.js';
import { type JournalLine, markedQuery, markers, readJournal, spillDir } from './spill-support.js';

const INTEGRITY_RE = /,"integrity":\{"chain_id":"[^"]*","seq":\d+,"prev_hash":"[0-9a-f]{64}"\}/;

/** [u32 LE prefix length][u32 LE suffix length][prefix][suffix]: the line without its integrity member. */
function frame(line: string): Buffer {
  const m = INTEGRITY_RE.exec(line)!;
  const prefix = Buffer.from(line.slice(0, m.index), 'utf8');
  const suffix = Buffer.from(line.slice(m.index + m[0].length), 'utf8');
  const header = Buffer.alloc(8);
  header.writeUInt32LE(prefix.length, 0);
  header.writeUInt32LE(suffix.length, 4);
  return Buffer.concat([header, prefix, suffix]);
}

/** The line as it must be chained elsewhere: same bytes, another integrity member. */
function withoutIntegrity(line: string): string {
  return line.replace(INTEGRITY_RE, '');
}

/** A closed journal holding statements with these markers; its db.query lines. */
async function journalWith(dir: string, from: number, count: number): Promise<JournalLine[]> {
  const auditor = createAuditor({ service: { name: 'spill-recovery' }, journal: { dir }, params: { mode: 'raw' }, catalog: { mode: false } });
  await auditor.ready();
  for (let i = from; i < from + count; i++) markedQuery(auditor, i);
  await auditor.close();
  return readJournal(dir).filter((l) => l.rec.type === 'db.query');
}

function newChain(dir: string, oldChains: Set<string>): JournalLine[] {
  return readJournal(dir).filter((l) => !oldChains.has(l.rec.integrity!.chain_id));
}

function chainsOf(dir: string): Set<string> {
  return new Set(readJournal(dir).map((l) => l.rec.integrity!.chain_id));
}

for (const spill of [undefined, false] as const) {
  test(`records spilled by a dead process come first in the next chain; a torn frame is set aside and counted${spill === false ? ' (spill: false on restart)' : ''}`, async () => {
    const dir = tempDir('qt-spill-rec-');
    await journalWith(dir, 0, 5);
    // Records of another process, never chained anywhere: what a crash leaves in .spill.
    const other = await journalWith(tempDir('qt-spill-rec-src-'), 100, 20);
    const name = `${other[0]!.rec.integrity!.chain_id}-000001.spill`;
    const torn = frame(other[0]!.line).subarray(0, 60); // a write cut short by the crash
    mkdirSync(spillDir(dir));
    writeFileSync(join(spillDir(dir), name), Buffer.concat([...other.map((l) => frame(l.line)), torn]));
    const oldChains = chainsOf(dir);

    const restarted = createAuditor({ service: { name: 'spill-recovery' }, journal: { dir, ...(spill === false ? { spill } : {}) }, params: { mode: 'raw' }, catalog: { mode: false } });
    await restarted.ready();
    markedQuery(restarted, 1000);
    await restarted.close();

    const chain = newChain(dir, oldChains);
    const genesis = chain[0]!.rec;
    assert.equal(genesis.type, 'chain.genesis');
    assert.equal(genesis.genesis?.reason, 'restart');
    assert.deepEqual(genesis.genesis?.spilled, { records: 20, files: [name], torn: 1 });
    assertValidEvent(genesis);
    // Right after the genesis, in order, byte for byte the lines they were spilled from (but their chain position).
    const recovered = chain.slice(1, 21);
    assert.deepEqual(
      recovered.map((l) => withoutIntegrity(l.line)),
      other.map((l) => withoutIntegrity(l.line)),
    );
    assert.deepEqual(
      recovered.map((l) => l.rec.integrity!.seq),
      recovered.map((_, i) => i + 2),
    );
    const gap = chain[21]!.rec;
    assert.equal(gap.type, 'sink.gap');
    assert.equal(gap.gap!.count, 1);
    assert.match(gap.gap!.cause, /torn by a crash/);
    assertValidEvent(gap);
    assert.deepEqual(
      chain.slice(22).map((l) => l.rec.type),
      ['sdk.start', 'db.query', 'sdk.stop'],
    );
    assert.deepEqual(markers(chain), [...other.map((_, i) => 100 + i), 1000]);

    assert.deepEqual(readFileSync(join(spillDir(dir), `${name}.torn`)), torn, 'the torn bytes are kept aside');
    assert.deepEqual(readdirSync(spillDir(dir)), [`${name}.torn`], 'the chained spill file is gone');
    const report = verifyJournal(dir);
    assert.equal(report.ok, true, JSON.stringify(report.findings));
    assert.equal(report.chains.length, 2);
  });
}

test('records the dead process had already chained are not chained again', async () => {
  const dir = tempDir('qt-spill-dup-');
  const own = await journalWith(dir, 0, 30);
  const other = await journalWith(tempDir('qt-spill-dup-src-'), 100, 10);
  // It died after chaining the first 10 records of the spill, before deleting the file.
  const name = `${own[0]!.rec.integrity!.chain_id}-000003.spill`;
  mkdirSync(spillDir(dir));
  const chainedPart = own.slice(20);
  writeFileSync(join(spillDir(dir), name), Buffer.concat([...chainedPart, ...other].map((l) => frame(l.line))));
  const oldChains = chainsOf(dir);

  const restarted = createAuditor({ service: { name: 'spill-recovery' }, journal: { dir }, params: { mode: 'raw' }, catalog: { mode: false } });
  // The skip is on disk before anything is chained, so a crash now would still not chain them twice.
  const offset = chainedPart.reduce((n, l) => n + frame(l.line).length, 0);
  assert.deepEqual(readdirSync(spillDir(dir)), [name.replace('.spill', `+${offset}.spill`)]);
  await restarted.close();

  const chain = newChain(dir, oldChains);
  assert.deepEqual(chain[0]!.rec.genesis?.spilled, { records: 10, files: [name.replace('.spill', `+${offset}.spill`)] });
  assert.deepEqual(markers(chain), other.map((_, i) => 100 + i));
  const ids = readJournal(dir).map((l) => l.rec.event_id);
  assert.equal(new Set(ids).size, ids.length, 'no event is in the journal twice');
  assert.equal(existsSync(spillDir(dir)), false, 'nothing is left to recover');
  assert.equal(verifyJournal(dir).ok, true);
});

test('a spill file whose records were all chained already is deleted, and the genesis says nothing of it', async () => {
  const dir = tempDir('qt-spill-done-');
  const own = await journalWith(dir, 0, 10);
  mkdirSync(spillDir(dir));
  writeFileSync(join(spillDir(dir), `${own[0]!.rec.integrity!.chain_id}-000001.spill`), Buffer.concat(own.slice(4).map((l) => frame(l.line))));
  const oldChains = chainsOf(dir);
  const restarted = createAuditor({ service: { name: 'spill-recovery' }, journal: { dir }, catalog: { mode: false } });
  await restarted.close();
  const genesis = newChain(dir, oldChains)[0]!.rec as QuerytrailEvent;
  assert.equal(genesis.genesis?.spilled, undefined);
  assert.equal(existsSync(spillDir(dir)), false);
  const ids = readJournal(dir).map((l) => l.rec.event_id);
  assert.equal(new Set(ids).size, ids.length);
});
