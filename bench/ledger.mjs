#!/usr/bin/env node
// `make bench-ledger`: the cost ledger of the static route (docs/performance.md, "Cost ledger"). Starts
// bench/ledger/ledger-app.ts once per layer (LEDGER_LAYER = 0 … 11: bare Nest-Express, then AgentAuth's HTTP
// layers added one at a time, the real code in the API's order) and finally the real API (one process), each
// alone, against real PostgreSQL and Redis, and drives the same discovery-sized JSON route with autocannon
// (32 connections). ROUNDS rounds, layer by layer inside each round, so slow drifts of a shared machine spread
// over every layer; per layer the median. Prints one JSON line per layer and round, then the ledger:
//   {ledger, name, cpu_us_per_request, delta_cpu_us, rps}
// cpu_us_per_request = the server process's CPU time (user + system, /proc) over the measured window divided
// by the requests it answered: what one request costs that process, steadier than rps on a shared machine
// (rps is printed too). delta = this layer minus the one before it. Work done by Redis (the rate-limit
// script) is not in it: that runs in redis-server.
//
// Env: LEDGER_ROUNDS (3), LEDGER_DURATION (5 s), LEDGER_WARMUP (2 s), BENCH_CONNECTIONS (32), BENCH_SKIP_BUILD,
//      LEDGER_PORT (8310), TEST_PG_ADMIN_URL, TEST_REDIS_URL, LEDGER_LAYERS (comma list of indexes / `api`).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const PORT = Number(env.LEDGER_PORT ?? 8310);
const ROUNDS = Number(env.LEDGER_ROUNDS ?? 3);
const DURATION = Number(env.LEDGER_DURATION ?? 5);
const WARMUP = Number(env.LEDGER_WARMUP ?? 2);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 32);
const ADMIN_URL = env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const DB_NAME = `agentauth_ledger_${process.pid}`;
const BASE = `http://127.0.0.1:${PORT}`;
const ROUTE = '/.well-known/oauth-authorization-server';

const NAMES = [
  'bare Nest-Express (the floor)',
  'infrastructure modules loaded (config, nestjs-pino context, PostgreSQL, Redis, audit, rate limiter), ETag / X-Powered-By off',
  '+ request id, request logger, access log',
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
const LAYERS = (env.LEDGER_LAYERS ?? [...NAMES.keys(), 'api'].join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
  .map((s) => (s === 'api' ? 'api' : Number(s)));
const nameOf = (layer) => (layer === 'api' ? 'the real API (every module and route, one process)' : NAMES[layer]);

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

async function admin(sql) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

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
  DATABASE_POOL_SIZE: '20',
  REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  SECRET_KEY: randomBytes(32).toString('base64url'),
  ADMIN_API_KEY: randomBytes(32).toString('base64url'),
  RATE_LIMIT_AGENT_PER_MINUTE: '10000000',
  RATE_LIMIT_IP_PER_MINUTE: '10000000',
  BOOTSTRAP_RATE_LIMIT_PER_HOUR: '10000000',
  LOG_LEVEL: 'warn',
  NODE_OPTIONS: '--max-old-space-size=192',
};
delete serverEnv.OTEL_EXPORTER_OTLP_ENDPOINT;

async function start(layer) {
  const args = layer === 'api' ? ['dist/apps/api/src/main.js'] : ['dist/bench/ledger/ledger-app.js'];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...serverEnv, LEDGER_LAYER: String(layer) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-4000)));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`layer ${layer} exited: ${stderr}`);
    try {
      const res = await fetch(`${BASE}${ROUTE}`);
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

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(layer, round) {
  const child = await start(layer);
  try {
    const opts = { url: `${BASE}${ROUTE}`, connections: CONNECTIONS };
    if (WARMUP > 0) await autocannon({ ...opts, duration: WARMUP });
    const cpu0 = cpuSeconds(child.pid);
    const r = await autocannon({ ...opts, duration: DURATION });
    const cpu = cpuSeconds(child.pid) - cpu0;
    const line = {
      round,
      layer,
      // The server's own CPU per answered request: far steadier than rps on a machine shared with other jobs.
      cpu_us_per_request: Math.round((cpu * 1e6) / r.requests.total),
      rps: Math.round((r['2xx'] / r.duration) * 10) / 10,
      p99_ms: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
    };
    print(line);
    return line;
  } finally {
    await stop(child);
  }
}

async function main() {
  if (!env.BENCH_SKIP_BUILD) execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DB_NAME}"`);
  try {
    execFileSync(process.execPath, ['dist/scripts/migrate.js', 'up'], { cwd: root, env: serverEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    // The layered app serves the real discovery document (read from a short-lived API process).
    const api = await start('api');
    const body = await (await fetch(`${BASE}${ROUTE}`)).text();
    await stop(api);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ledger-')), 'discovery.json');
    writeFileSync(file, body);
    serverEnv.FLOOR_BODY_FILE = file;
    log('body', { bytes: Buffer.byteLength(body) });

    const results = new Map(LAYERS.map((l) => [l, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const layer of LAYERS) results.get(layer).push(await measure(layer, round));
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    let previous;
    for (const layer of LAYERS) {
      const lines = results.get(layer);
      const cpu = median(lines.map((l) => l.cpu_us_per_request));
      print({
        ledger: layer,
        name: nameOf(layer),
        cpu_us_per_request: cpu,
        delta_cpu_us: previous === undefined ? null : cpu - previous,
        cpu_us_rounds: lines.map((l) => l.cpu_us_per_request),
        rps: median(lines.map((l) => l.rps)),
        rps_rounds: lines.map((l) => l.rps),
      });
      previous = cpu;
    }
    const first = median(results.get(LAYERS[0]).map((l) => l.cpu_us_per_request));
    const last = median(results.get(LAYERS[LAYERS.length - 1]).map((l) => l.cpu_us_per_request));
    print({ floor_cpu_over_last: Math.round((first / last) * 100) / 100, of: nameOf(LAYERS[LAYERS.length - 1]) });
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
