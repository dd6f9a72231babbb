#!/usr/bin/env node
// Summarises .heapprofile files (bench/profile/heap-preload.cjs): sampled bytes allocated by function (self)
// and by package, and inclusive (any frame of the allocation's stack). With `--requests N` also bytes per
// request. Usage: node bench/profile/heap-analyze.mjs <file.heapprofile>... [--top N] [--requests N]
import { readFileSync } from 'node:fs';
import { packageOf } from './frames.mjs';

const args = process.argv.slice(2);
const option = (name) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
const top = option('--top') ?? 40;
const requests = option('--requests');
const files = args.filter((a) => a.endsWith('.heapprofile'));

const self = new Map();
const byPackage = new Map();
const inclusive = new Map();
let total = 0;

const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);

function walk(node, stack) {
  const cf = node.callFrame;
  const key = `${cf.functionName || '(anon)'} ${packageOf(cf.url)}:${cf.lineNumber + 1}`;
  const bytes = node.selfSize ?? 0;
  const here = [...stack, key];
  if (bytes > 0) {
    total += bytes;
    add(self, key, bytes);
    add(byPackage, packageOf(cf.url), bytes);
    for (const frame of new Set(here)) add(inclusive, frame, bytes);
  }
  for (const child of node.children ?? []) walk(child, here);
}

for (const file of files) walk(JSON.parse(readFileSync(file, 'utf8')).head, []);

const show = (bytes) =>
  `${((100 * bytes) / total).toFixed(1).padStart(5)} %${
    requests
      ? `  ${Math.round(bytes / requests)
          .toString()
          .padStart(6)} B/req`
      : ''
  }`;
const print = (title, map, n) => {
  console.log(`\n## ${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${show(v)}  ${k}`);
};
console.log(`sampled allocations: ${(total / 1e6).toFixed(1)} MB over ${files.length} profile(s)`);
if (requests) console.log(`per request: ${Math.round(total / requests)} B`);
print('by package', byPackage, 30);
print('self, by function', self, top);
print('inclusive', inclusive, top);
