// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per package/file,
// and total (inclusive) time for functions whose name or file matches an optional filter.
//   node bench/profile-summary.mjs CPU.xxx.cpuprofile [top=25] [filter]
import { readFileSync } from 'node:fs';

const [file, topArg, filter] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top] [filter]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample time per node (timeDeltas[i] is the time before sample i).
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

function where(cf) {
  const url = cf.url || '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  return url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
}
function label(cf) {
  return `${cf.functionName || '(anonymous)'} ${where(cf)}:${cf.lineNumber + 1}`;
}

const selfByFn = new Map();
const selfByFile = new Map();
for (const [id, t] of self) {
  const cf = byId.get(id).callFrame;
  selfByFn.set(label(cf), (selfByFn.get(label(cf)) ?? 0) + t);
  selfByFile.set(where(cf), (selfByFile.get(where(cf)) ?? 0) + t);
}

// Inclusive time: a sample counts once for every distinct function on its stack.
const incl = new Map();
for (const [id, t] of self) {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const l = label(byId.get(n).callFrame);
    if (!seen.has(l)) {
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + t);
    }
  }
}

const pct = (t) => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
const print = (title, m, n, keep = () => true) => {
  console.log(`\n${title}`);
  for (const [k, t] of [...m].filter(([k]) => keep(k)).sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(t)}  ${k}`);
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
print('self time by file/package', selfByFile, top);
print('self time by function', selfByFn, top);
print(`inclusive time${filter ? ` (matching ${filter})` : ''}`, incl, top, (k) => !filter || k.includes(filter));
