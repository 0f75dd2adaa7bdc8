// Spilled records survive a process crash (docs/delivery.md, docs/integrity.md "Crash recovery"): a
// child bursts so that its spill holds records and is SIGKILLed before its writer has chained them.
// A new auditor on the same directory chains them first thing in its chain (the genesis says so),
// never chains one twice (the child's writer may have chained part of the spill), keeps their order,
// sets a torn frame aside and counts it; the verifier finds nothing INVALID.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { createAuditor, type QuerytrailEvent, verifyJournal } from '@querytrail/core';
import { tempDir } from '../support/temp-dir.js';
import { markers, readJournal, spillDir, spillFiles, strictlyIncreasing } from './spill-support.js';

const CHILD = fileURLToPath(new URL('./spill-crash-child.ts', import.meta.url));
const STATEMENTS = 100_000;
const FAKE_INTEGRITY = `,"integrity":{"chain_id":"x","seq":1,"prev_hash":"${'0'.repeat(64)}"}`;

/** Starts the child, SIGKILLs it as soon as it says its spill is in the state asked for. */
function runAndKill(dir: string, when: When): Promise<void> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the test runner's flags must not reach the child
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD, dir, String(STATEMENTS), when], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<void>((resolve, reject) => {
    let out = '';
    let stderr = '';
    let killed = false;
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not spill within 25 s\n${out}\n${stderr}`));
    }, 25_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!killed && out.includes('SPILLED\n')) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (signal === 'SIGKILL' && killed) resolve();
      else reject(new Error(`the child exited on its own (code ${code}, signal ${signal})\n${out}\n${stderr}`));
    });
  });
}

interface Frame {
  bytes: Buffer;
  marker: number;
}

/** The whole frames of a spill file ([u32 prefix][u32 suffix][prefix][suffix]) and the marker each carries. */
function framesOf(path: string): Frame[] {
  const buf = readFileSync(path);
  const out: Frame[] = [];
  for (let at = 0; at + 8 <= buf.length; ) {
    const p = buf.readUInt32LE(at);
    const s = buf.readUInt32LE(at + 4);
    if (at + 8 + p + s > buf.length) break; // torn by the kill
    const line = buf.toString('utf8', at + 8, at + 8 + p) + FAKE_INTEGRITY + buf.toString('utf8', at + 8 + p, at + 8 + p + s);
    out.push({ bytes: buf.subarray(at, at + 8 + p + s), marker: Number((JSON.parse(line) as QuerytrailEvent).statement!.params!.values![0]) });
    at += 8 + p + s;
  }
  return out;
}

/** `spilled`: killed once the spill holds bytes; `chaining`: once the writer has chained part of the spill. */
type When = 'spilled' | 'chaining';

async function crashIteration(t: TestContext, when: When): Promise<void> {
  const dir = tempDir('qt-spill-crash-');
  await runAndKill(dir, when);

  const files = spillFiles(dir).sort();
  assert.ok(files.length > 0, 'the killed child left a spill');
  const spilled = files.flatMap((f) => framesOf(join(spillDir(dir), f)).map((fr) => fr.marker));
  const before = readJournal(dir);
  const oldMarkers = markers(before);
  const oldChain = before[0]!.rec.integrity!.chain_id;
  const alreadyChained = new Set(oldMarkers);
  const expected = spilled.filter((m) => !alreadyChained.has(m));
  // A write cut short by a crash: part of a frame at the end of the newest spill file.
  const newest = join(spillDir(dir), files.at(-1)!);
  const first = framesOf(join(spillDir(dir), files[0]!))[0]!;
  const torn = first.bytes.subarray(0, 40);
  appendFileSync(newest, torn);

  const restarted = createAuditor({ service: { name: 'spill-crash-restart' }, journal: { dir }, params: { mode: 'raw' }, catalog: { mode: false } });
  await restarted.close();

  const after = readJournal(dir);
  const chain = after.filter((l) => l.rec.integrity!.chain_id !== oldChain);
  const genesis = chain[0]!.rec;
  const recovered = markers(chain);
  t.diagnostic(
    `killed ${when === 'spilled' ? 'after its first spill write' : 'while chaining its spill'}: ${oldMarkers.length} statements chained by the child, ${spilled.length} on disk in ${files.length} spill file(s), ` +
      `${spilled.length - expected.length} of them chained already; ${recovered.length} recovered; ${STATEMENTS - oldMarkers.length - recovered.length} lost (not yet spilled)`,
  );
  assert.equal(genesis.type, 'chain.genesis');
  if (when === 'chaining') assert.ok(expected.length < spilled.length, 'the child had chained part of its spill: those are skipped');
  assert.equal(genesis.genesis?.spilled?.records, expected.length);
  assert.equal(genesis.genesis?.spilled?.torn, 1);
  assert.deepEqual(recovered, expected, 'the spilled records not chained yet, in order, right after the genesis');
  assert.deepEqual(
    chain.slice(1, 1 + expected.length).map((l) => l.rec.type),
    expected.map(() => 'db.query'),
  );
  assert.ok(strictlyIncreasing([...oldMarkers, ...recovered]), 'order is kept across the crash');
  const ids = after.map((l) => l.rec.event_id);
  assert.equal(new Set(ids).size, ids.length, 'no record is chained twice');
  const gaps = chain.filter((l) => l.rec.type === 'sink.gap');
  assert.equal(gaps.length, 1);
  assert.match(gaps[0]!.rec.gap!.cause, /torn by a crash/);
  const tornFile = `${newest}.torn`;
  assert.deepEqual(readFileSync(tornFile).subarray(-torn.length), torn, 'the torn bytes are set aside');
  assert.deepEqual(readdirSync(spillDir(dir)).filter((f) => f.endsWith('.spill')), [], 'the recovered spill is deleted once chained');
  const report = verifyJournal(dir);
  assert.deepEqual(
    report.findings.filter((f) => f.verdict === 'INVALID'),
    [],
  );
  assert.equal(report.chains.length, 2);
}

test('kill -9 while the spill holds records: the next start chains them first, once each, in order', async (t) => {
  await t.test('killed right after its first spill write', (tt) => crashIteration(tt, 'spilled'));
  await t.test('killed while its writer was chaining the spill', (tt) => crashIteration(tt, 'chaining'));
});
