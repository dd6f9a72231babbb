#!/usr/bin/env node
// Summarises .cpuprofile files: self time by function and by package, and the inclusive time of the frames
// named on the command line. Usage: node bench/profile/analyze.mjs <file.cpuprofile>... [--top N] [--since-ms T]
import { readFileSync } from 'node:fs';
import { packageOf } from './frames.mjs';

const args = process.argv.slice(2);
const top = Number(args[args.indexOf('--top') + 1]) || 40;
const files = args.filter((a, i) => a.endsWith('.cpuprofile') && args[i - 1] !== '--top');

const selfByFn = new Map();
const selfByPkg = new Map();
const inclusive = new Map();
let total = 0;

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) =>
    counts.set(id, (counts.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0)),
  );
  for (const [id, us] of counts) {
    const n = nodes.get(id);
    const cf = n.callFrame;
    const name = `${cf.functionName || '(anon)'} ${packageOf(cf.url)}:${cf.lineNumber + 1}`;
    selfByFn.set(name, (selfByFn.get(name) ?? 0) + us);
    const pkg =
      cf.functionName === '(idle)'
        ? '(idle)'
        : cf.functionName === '(garbage collector)'
          ? '(gc)'
          : packageOf(cf.url);
    selfByPkg.set(pkg, (selfByPkg.get(pkg) ?? 0) + us);
    total += us;
    const seen = new Set();
    for (let p = id; p !== undefined; p = parent.get(p)) {
      const pcf = nodes.get(p).callFrame;
      const key = `${pcf.functionName || '(anon)'} ${packageOf(pcf.url)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
}

const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const print = (title, map, n) => {
  console.log(`\n## ${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(v)}  ${k}`);
};
console.log(`total sampled: ${(total / 1e6).toFixed(2)} s over ${files.length} profile(s)`);
print('self time by package', selfByPkg, 30);
print('self time by function', selfByFn, top);
print('inclusive time', inclusive, top);
