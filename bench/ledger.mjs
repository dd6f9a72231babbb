#!/usr/bin/env node
// `make bench-ledger`: the cost ledger of the static route (docs/performance.md, "Cost ledger"). Starts
// bench/ledger/ledger-app.ts once per layer (LEDGER_LAYER = 0 … 11: bare Nest-Express, then AgentAuth's HTTP
// layers added one at a time, the real code in the API's order) and finally the real API (one process), each
// against real PostgreSQL and Redis, and drives the same discovery-sized JSON route with autocannon (32
// connections). All the processes run at once; each round loads each of them alone for a short slice, in a new
// random order, so a shared machine's drifts spread over every layer; per layer the median over the rounds.
// Prints one JSON line per slice, then the ledger:
//   {ledger, name, cpu_us_per_request, delta_cpu_us, backing_cpu_us_per_request, rps}
// cpu_us_per_request = the server process's CPU time (user + system, /proc) over the measured window divided
// by the requests it answered: what one request costs that process, steadier than rps on a shared machine
// (rps is printed too). delta = this layer minus the one before it. Work done by Redis (the rate-limit
// script) and PostgreSQL is not in it: that is backing_cpu_us_per_request, the CPU of this database's
// PostgreSQL backends and of redis-server during the slice (only the loaded layer is busy), per request.
// rps differs between the `api` and `baseline` slots even for the same build (an A/A run: ~15 %): compare
// CPU, and swap the builds' slots to check a small difference.
//
// Env: LEDGER_ROUNDS (8), LEDGER_DURATION (2 s per slice), LEDGER_WARMUP (3 s per process, once), BENCH_CONNECTIONS (32), BENCH_SKIP_BUILD,
//      LEDGER_PORT (8310), TEST_PG_ADMIN_URL, TEST_REDIS_URL, LEDGER_LAYERS (comma list of indexes / `api`).
// LEDGER_ROUTE: `static` (the default: the discovery-sized route above) or one of the hot endpoints —
// `client_credentials` (a warm key), `introspect`, `bearer_get_agent` — as `make bench` drives them; those are
// served by the real API only, so the layers are `api` and `baseline` (an A/B of a change on a hot endpoint,
// both builds against the same database and Redis, each round in a new order) plus layer 0 for reference.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { adminQuery, cpuSeconds, databaseBackendPids, imageNodeOptions } from './bench-support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const PORT = Number(env.LEDGER_PORT ?? 8310);
const ROUNDS = Number(env.LEDGER_ROUNDS ?? 8);
const DURATION = Number(env.LEDGER_DURATION ?? 2);
const WARMUP = Number(env.LEDGER_WARMUP ?? 3);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 32);
const ADMIN_URL = env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const DB_NAME = `agentauth_ledger_${process.pid}`;
const BASE = `http://127.0.0.1:${PORT}`;
const ROUTE = '/.well-known/oauth-authorization-server';
const HOT_ROUTES = ['client_credentials', 'introspect', 'bearer_get_agent'];
const LEDGER_ROUTE = env.LEDGER_ROUTE ?? 'static';
if (LEDGER_ROUTE !== 'static' && !HOT_ROUTES.includes(LEDGER_ROUTE))
  throw new Error(`LEDGER_ROUTE: static or one of ${HOT_ROUTES.join(', ')}`);

const NAMES = [
  'bare Nest-Express (the floor)',
  'infrastructure modules loaded (config, logging, PostgreSQL, Redis, audit, rate limiter), ETag / X-Powered-By off, lean JSON reply',
  '+ request id, request logger, access log, pino context binding',
  '+ security headers',
  '+ CORS',
  '+ content-type check, body parsers (JSON, form)',
  '+ global prefix /api/v1 (with exclusions)',
  '+ global authentication guard',
  '+ rate-limit guard (one Redis script call per request: the IP bucket)',
  '+ audit interceptor (bound to @Audited routes only since issue 23: nothing on this route)',
  '+ validation pipe',
  '+ exception filters (problem+json, 429)',
];
// LEDGER_BASELINE_DIR: another checkout, built (e.g. a git worktree of the commit before a change): its API
// runs as one more layer, `baseline`, measured in the same rounds as ours — an A/B of a change on one run.
// LEDGER_BASELINE_NODE_OPTIONS: the baseline's NODE_OPTIONS (default: the image's, as every layer), e.g. the
// same checkout (LEDGER_BASELINE_DIR=.) with other V8 settings.
const BASELINE_DIR = env.LEDGER_BASELINE_DIR ? path.resolve(env.LEDGER_BASELINE_DIR) : undefined;
const LAYERS = (
  env.LEDGER_LAYERS ??
  (LEDGER_ROUTE === 'static'
    ? [...NAMES.keys(), ...(BASELINE_DIR ? ['baseline'] : []), 'api']
    : [0, ...(BASELINE_DIR ? ['baseline'] : []), 'api']
  ).join(',')
)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => (s === 'api' || s === 'baseline' ? s : Number(s)));
const nameOf = (layer) =>
  layer === 'api'
    ? 'the real API (every module and route, one process)'
    : layer === 'baseline'
      ? `the real API built from ${BASELINE_DIR}`
      : NAMES[layer];

const log = (msg, extra = {}) => process.stderr.write(`${JSON.stringify({ ledger: msg, ...extra })}\n`);
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

function dbUrl(user) {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  if (user) {
    url.username = user;
    url.password = env.BENCH_APP_PASSWORD ?? '';
  }
  return url.toString();
}

const admin = (sql) => adminQuery(ADMIN_URL, sql);

const prefix = `aa:ledger:${process.pid}:`;
const serverEnv = {
  ...env,
  NODE_ENV: 'production',
  ENVIRONMENT: 'production',
  PORT: String(PORT),
  HOST: '127.0.0.1',
  PUBLIC_BASE_URL: BASE,
  API_WORKERS: '1',
  DATABASE_URL: dbUrl(env.BENCH_APP_ROLE ?? 'agentauth_app'),
  MIGRATIONS_DATABASE_URL: dbUrl(),
  DATABASE_POOL_SIZE: '4', // a dozen processes at once; the static route reads nothing
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  SECRET_KEY: randomBytes(32).toString('base64url'),
  ADMIN_API_KEY: randomBytes(32).toString('base64url'),
  BOOTSTRAP_OPEN: 'true', // LEDGER_ROUTE seeds its agent through the API
  RATE_LIMIT_AGENT_PER_MINUTE: '10000000',
  RATE_LIMIT_IP_PER_MINUTE: '10000000',
  BOOTSTRAP_RATE_LIMIT_PER_HOUR: '10000000',
  LOG_LEVEL: 'warn',
  NODE_OPTIONS: imageNodeOptions(root),
};
delete serverEnv.OTEL_EXPORTER_OTLP_ENDPOINT;

function portOf(layer) {
  return PORT + 1 + (layer === 'api' ? NAMES.length : layer === 'baseline' ? NAMES.length + 1 : layer);
}

async function start(layer) {
  const args =
    layer === 'api' || layer === 'baseline'
      ? ['dist/apps/api/src/main.js']
      : ['dist/bench/ledger/ledger-app.js'];
  const port = portOf(layer);
  if (layer === 'baseline' && !BASELINE_DIR) throw new Error('the baseline layer needs LEDGER_BASELINE_DIR');
  const child = spawn(process.execPath, args, {
    cwd: layer === 'baseline' ? BASELINE_DIR : root,
    env: {
      ...serverEnv,
      ...(layer === 'baseline' && env.LEDGER_BASELINE_NODE_OPTIONS !== undefined
        ? { NODE_OPTIONS: env.LEDGER_BASELINE_NODE_OPTIONS }
        : {}),
      PORT: String(port),
      PUBLIC_BASE_URL: BASE,
      LEDGER_LAYER: String(layer),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  // the log lines (LOG_LEVEL=warn: warnings and errors) and anything on stderr, for a failure's message
  const keep = (c) => (stderr = (stderr + c).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.stderrTail = () => stderr;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`layer ${layer} exited: ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${ROUTE}`);
      if (res.status === 200) {
        await res.arrayBuffer();
        return child;
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error(`layer ${layer} not ready: ${stderr}`);
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function post(url, headers, body) {
  // Ready answers before the audit writer's first connection: a 503 right after start is retried.
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { method: 'POST', headers, body });
    const json = await res.json();
    if (res.ok) return json;
    if (res.status !== 503 || attempt === 50)
      throw new Error(`${url}: ${res.status} ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * What a layer's slice sends: the static route, or (LEDGER_ROUTE) a hot endpoint's request as `make bench`
 * sends it, for a root agent seeded once through the API (every layer serving it shares the database and Redis).
 */
let hotRequest;
async function seedHotRoute(apiBase) {
  const root = await post(
    `${apiBase}/api/v1/agents/bootstrap`,
    { 'content-type': 'application/json' },
    JSON.stringify({ name: 'ledger-root' }),
  );
  const authorization = basic(root.agent.id, root.credential.api_key);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const minted = await post(
    `${apiBase}/api/v1/auth/token`,
    { ...form, authorization },
    'grant_type=client_credentials&scope=agents%3Aread%20tokens%3Aintrospect',
  );
  hotRequest = {
    client_credentials: {
      path: '/api/v1/auth/token',
      method: 'POST',
      headers: { ...form, authorization },
      body: 'grant_type=client_credentials&scope=agents%3Aread',
    },
    introspect: {
      path: '/api/v1/auth/token/introspect',
      method: 'POST',
      headers: { ...form, authorization },
      body: `token=${minted.access_token}&token_type_hint=access_token`,
    },
    bearer_get_agent: {
      path: `/api/v1/agents/${root.agent.id}`,
      method: 'GET',
      headers: { authorization: `Bearer ${minted.access_token}` },
    },
  }[LEDGER_ROUTE];
}

let redisServerPid;
/**
 * The processes behind the layers: this database's PostgreSQL backends and the Redis server (both on this
 * machine). Only the loaded layer is busy during a slice, so their CPU then is that layer's.
 */
async function backingPids() {
  if (redisServerPid === undefined) {
    const redis = new Redis(REDIS_URL);
    try {
      redisServerPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);
    } finally {
      redis.disconnect();
    }
  }
  return [...(await databaseBackendPids(ADMIN_URL, DB_NAME)), ...(redisServerPid ? [redisServerPid] : [])];
}

/**
 * One slice of load on one layer's process: its CPU per answered request, the CPU PostgreSQL and Redis spent
 * meanwhile per request (`backing`: on this 2-core machine they share the cores with the API), and its rps.
 */
async function slice(layer, child, seconds) {
  const backing = await backingPids();
  const backing0 = backing.map(cpuSeconds);
  const cpu0 = cpuSeconds(child.pid);
  const hot = LEDGER_ROUTE !== 'static' && layer !== 0 ? hotRequest : undefined;
  const r = await autocannon({
    url: `http://127.0.0.1:${portOf(layer)}${hot ? hot.path : ROUTE}`,
    ...(hot ? { method: hot.method, headers: hot.headers, ...(hot.body ? { body: hot.body } : {}) } : {}),
    connections: CONNECTIONS,
    duration: seconds,
  });
  const cpu = cpuSeconds(child.pid) - cpu0;
  const backingCpu = backing.reduce((sum, pid, i) => sum + Math.max(0, cpuSeconds(pid) - backing0[i]), 0);
  if (r.errors + r.timeouts + r.non2xx > 0)
    throw new Error(`layer ${layer}: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return {
    cpu_us_per_request: (cpu * 1e6) / r.requests.total,
    backing_cpu_us_per_request: (backingCpu * 1e6) / r.requests.total,
    rps: r['2xx'] / r.duration,
  };
}

function shuffled(xs) {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function main() {
  if (!env.BENCH_SKIP_BUILD)
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DB_NAME}"`);
  try {
    execFileSync(process.execPath, ['dist/scripts/migrate.js', 'up'], {
      cwd: root,
      env: serverEnv,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    // The layered app serves the real discovery document (read from a short-lived API process).
    const api = await start('api');
    const body = await (await fetch(`http://127.0.0.1:${portOf('api')}${ROUTE}`)).text();
    if (LEDGER_ROUTE !== 'static') {
      if (LAYERS.some((layer) => typeof layer === 'number' && layer !== 0))
        throw new Error(
          `LEDGER_ROUTE=${LEDGER_ROUTE} is served by the real API only: LEDGER_LAYERS 0, baseline, api`,
        );
      await seedHotRoute(`http://127.0.0.1:${portOf('api')}`).catch((error) => {
        throw new Error(`${error.message}\n${api.stderrTail()}`);
      });
      log('seeded', { route: LEDGER_ROUTE });
    }
    await stop(api);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ledger-')), 'discovery.json');
    writeFileSync(file, body);
    serverEnv.FLOOR_BODY_FILE = file;
    log('body', { bytes: Buffer.byteLength(body) });

    // Every layer's process runs at once (idle but for its slices), so each round measures all of them
    // within a few seconds of each other, in a new random order: a shared machine's drifts spread evenly.
    const children = new Map();
    try {
      for (const layer of LAYERS) children.set(layer, await start(layer));
      for (const layer of LAYERS) await slice(layer, children.get(layer), WARMUP);
      const results = new Map(LAYERS.map((l) => [l, []]));
      for (let round = 1; round <= ROUNDS; round++) {
        for (const layer of shuffled(LAYERS)) {
          const line = await slice(layer, children.get(layer), DURATION);
          results.get(layer).push(line);
          print({
            round,
            layer,
            cpu_us_per_request: Math.round(line.cpu_us_per_request),
            backing_cpu_us_per_request: Math.round(line.backing_cpu_us_per_request),
            rps: Math.round(line.rps),
          });
        }
      }
      const median = (xs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const mid = sorted.length / 2;
        return sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
      };
      const quartiles = (xs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return [sorted[Math.floor(sorted.length / 4)], sorted[Math.floor((3 * sorted.length) / 4)]].map(
          Math.round,
        );
      };
      let previous;
      for (const layer of LAYERS) {
        const cpus = results.get(layer).map((l) => l.cpu_us_per_request);
        const cpu = median(cpus);
        print({
          ledger: layer,
          name: nameOf(layer),
          cpu_us_per_request: Math.round(cpu),
          cpu_us_quartiles: quartiles(cpus),
          delta_cpu_us: previous === undefined ? null : Math.round(cpu - previous),
          backing_cpu_us_per_request: Math.round(
            median(results.get(layer).map((l) => l.backing_cpu_us_per_request)),
          ),
          rps: Math.round(median(results.get(layer).map((l) => l.rps))),
        });
        previous = cpu;
      }
      const first = median(results.get(LAYERS[0]).map((l) => l.cpu_us_per_request));
      const last = median(results.get(LAYERS[LAYERS.length - 1]).map((l) => l.cpu_us_per_request));
      print({
        route: LEDGER_ROUTE,
        floor_cpu_over_last: Math.round((first / last) * 100) / 100,
        of: nameOf(LAYERS[LAYERS.length - 1]),
      });
    } finally {
      for (const child of children.values()) await stop(child);
    }
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`).catch(() => undefined);
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
}

main().catch((error) => {
  log('failed', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
