#!/usr/bin/env node
// The hot endpoints' cost ledger (docs/performance.md): where one request's CPU goes, from the sampled
// profiles `BENCH_PROFILE=<dir> make bench` writes. Self time is grouped by layer (the package or library the
// sampled function lives in), idle removed, and — given the API's CPU per request of the same run
// (`cpu_us_per_request` of the scenario's bench line) — converted to µs per request.
//   node bench/profile/ledger-summary.mjs [--cpu-us N] <dir>/<scenario>-*.cpuprofile
import { readFileSync } from 'node:fs';
import { packageOf } from './frames.mjs';

const args = process.argv.slice(2);
const cpuUs = args.includes('--cpu-us') ? Number(args[args.indexOf('--cpu-us') + 1]) : undefined;
const files = args.filter((a) => a.endsWith('.cpuprofile'));

/** [layer, test on (package, function name, url)] — the first match wins. */
const LAYERS = [
  ['GC', (p, fn) => fn === '(garbage collector)'],
  ['idle', (p, fn) => fn === '(idle)'],
  ['Node HTTP, sockets, streams, timers (node:*)', (p) => p.startsWith('node:')],
  [
    'Express 5 + router + its middleware packages',
    (p) =>
      /^(express|router|body-parser|raw-body|qs|type-is|content-type|finalhandler|send|on-finished|cors|vary|etag|fresh|accepts|negotiator|mime-types|iconv-lite|parseurl|path-to-regexp|depd|statuses|http-errors|proxy-addr|encodeurl|escape-html|media-typer|bytes|unpipe|ee-first|utils-merge|merge-descriptors|cookie|range-parser|setprototypeof|debug|ms)$/.test(
        p,
      ),
  ],
  [
    'Nest (router proxy, execution context, guard/interceptor/pipe consumers)',
    (p) => p.startsWith('@nestjs/'),
  ],
  ['rxjs', (p) => p === 'rxjs'],
  [
    'logging (pino, nestjs-pino)',
    (p) =>
      /^(pino|nestjs-pino|pino-std-serializers|sonic-boom|fast-redact|quick-format-unescaped|on-exit-leak-free|thread-stream|safe-stable-stringify|atomic-sleep)$/.test(
        p,
      ),
  ],
  [
    'ioredis client',
    (p) =>
      /^(ioredis|redis-parser|redis-errors|cluster-key-slot|denque|standard-as-callback|lodash\.[a-z]+)$/.test(
        p,
      ),
  ],
  [
    'pg + TypeORM',
    (p) =>
      /^(pg|pg-protocol|pg-types|pg-pool|postgres-[a-z]+|pgpass|typeorm|sql-highlight|buffer-writer|packet-reader|split2)$/.test(
        p,
      ),
  ],
  ['jose, argon2 (JWT, key checks)', (p) => /^(jose|argon2|@noble\/[a-z]+)$/.test(p)],
  ['class-validator / class-transformer', (p) => /^class-(validator|transformer)$/.test(p)],
  ['OpenTelemetry API (tracing off)', (p) => p.startsWith('@opentelemetry/')],
  ['libs/core (our HTTP layers, config, clock)', (p) => p === 'libs/core'],
  ['libs/ratelimit', (p) => p === 'libs/ratelimit'],
  ['libs/audit', (p) => p === 'libs/audit'],
  ['libs/auth (token, introspection, Bearer, client authentication)', (p) => p === 'libs/auth'],
  ['other libs (agents, credentials, revocation, keys, policies, scopes …)', (p) => p.startsWith('libs/')],
  ['V8 / native (no script frame)', (p) => p === '(native/idle)' || p === '(program)'],
  ['other packages', () => true],
];

/**
 * The static route's layers by where their code lives: a sample counts for a layer when any frame of its
 * stack is in one of the layer's files (inclusive time, each sample once per layer). Continuations after an
 * await (e.g. a Redis reply) start a new stack and count where they resume.
 */
const STACK_LAYERS = [
  ['request id / request logger', /logging\/request-logger\.js/],
  ['access log (+ metrics observers)', /http\/access-log\.middleware\.js|request-observers\.js|prom-client/],
  ['security headers', /http\/security-headers\.js/],
  ['CORS', /node_modules\/cors\//],
  ['content-type check', /http\/content-type\.middleware\.js/],
  ['body parsing', /http\/body-parsers\.js|node_modules\/body-parser\//],
  ['authentication guard', /auth-metadata\/auth\.guard\.js/],
  [
    'rate-limit guard (its JS; the Redis reply is under ioredis)',
    /ratelimit\/src\/rate-limit\.guard\.js|rate-limiter\.service\.js/,
  ],
  ['ioredis (commands, replies)', /node_modules\/ioredis\/|redis-parser/],
  ['audit interceptor', /audit\/src\/audit\.interceptor\.js/],
  ['Nest interceptor chain (AsyncResource.bind)', /interceptors-consumer\.js/],
  ['rxjs', /node_modules\/rxjs\//],
  ['validation pipe', /validation-pipe\.js|class-validator|class-transformer/],
  ['Express router (matching, next)', /node_modules\/router\//],
  ['response serialisation (res.json/send)', /node_modules\/express\/lib\/response\.js/],
];
const byStackLayer = new Map(STACK_LAYERS.map(([name]) => [name, 0]));

const byLayer = new Map(LAYERS.map(([name]) => [name, 0]));
const otherPackages = new Map();
let busy = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackLayersOf = new Map();
  const layersOfNode = (id) => {
    if (stackLayersOf.has(id)) return stackLayersOf.get(id);
    const found = new Set();
    for (let p = id; p !== undefined; p = parent.get(p)) {
      const url = nodes.get(p).callFrame.url;
      for (const [name, pattern] of STACK_LAYERS) if (pattern.test(url)) found.add(name);
    }
    stackLayersOf.set(id, found);
    return found;
  };
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const us = deltas[i + 1] ?? deltas[i] ?? 0;
    const cf = nodes.get(id).callFrame;
    const fn = cf.functionName;
    const pkg = fn === '(program)' ? '(program)' : packageOf(cf.url);
    const [layer] = LAYERS.find(([, test]) => test(pkg, fn));
    byLayer.set(layer, byLayer.get(layer) + us);
    if (layer === 'other packages') otherPackages.set(pkg, (otherPackages.get(pkg) ?? 0) + us);
    if (layer !== 'idle') busy += us;
    if (layer !== 'idle')
      for (const name of layersOfNode(id)) byStackLayer.set(name, byStackLayer.get(name) + us);
  });
}

const rows = [...byLayer].filter(([name, us]) => name !== 'idle' && us > 0).sort((a, b) => b[1] - a[1]);
console.log(
  `busy (non-idle) sampled: ${(busy / 1e6).toFixed(2)} s over ${files.length} profile(s), idle ${(byLayer.get('idle') / 1e6).toFixed(2)} s`,
);
console.log(`| layer | share of busy CPU |${cpuUs ? ' µs per request |' : ''}`);
console.log(`|---|---|${cpuUs ? '---|' : ''}`);
for (const [name, us] of rows) {
  const share = us / busy;
  console.log(`| ${name} | ${(100 * share).toFixed(1)} % |${cpuUs ? ` ${Math.round(share * cpuUs)} |` : ''}`);
}
if (otherPackages.size > 0) {
  const top = [...otherPackages].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(
    `\nother packages: ${top.map(([p, us]) => `${p} ${((100 * us) / busy).toFixed(1)} %`).join(', ')}`,
  );
}

console.log(
  `\n| piece (inclusive: any frame of the sample's stack in its code) | share of busy CPU |${cpuUs ? ' µs per request |' : ''}`,
);
console.log(`|---|---|${cpuUs ? '---|' : ''}`);
for (const [name, us] of byStackLayer) {
  const share = us / busy;
  console.log(`| ${name} | ${(100 * share).toFixed(1)} % |${cpuUs ? ` ${Math.round(share * cpuUs)} |` : ''}`);
}
