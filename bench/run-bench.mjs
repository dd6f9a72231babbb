#!/usr/bin/env node
// `make bench`: starts AgentAuth the production way (compiled JS, NODE_ENV=production, API_WORKERS
// processes through node:cluster) against real PostgreSQL and Redis, seeds a realistic tree, warms up, then
// drives each scenario with autocannon for a fixed duration. First the `nest_express_floor` line: a bare Nest
// 11 + platform-express app (bench/floor-app.ts, started here, as many processes as the API) serving the API's
// own discovery document; then one JSON line per scenario (static_discovery is the same route on the API):
//   {scenario, rps, p50_ms, p99_ms, errors, non2xx, requests, duration_s, connections, cpu_us_per_request, sys_us_per_request,
//    vs_floor, cpu_vs_floor}
// cpu_us_per_request: the server processes' CPU (user + system, /proc) per answered request; sys_us_per_request: its system part.
// plus a machine reference line (RS256 signatures per second on one core through node:crypto) and, when a
// peer OAuth server is given (BENCH_PEER_TOKEN_URL …) or started (BENCH_WITH_PEER=1), the peer's lines and
// the ratios. A benchmark, never a test: it prints numbers and fails only when the service cannot be driven.
//
// Env: BENCH_PORT (8300), BENCH_DURATION (10 s), BENCH_WARMUP (3 s), BENCH_CONNECTIONS (32),
//      BENCH_API_WORKERS (2), BENCH_SCENARIOS (comma list; default all), BENCH_SKIP_BUILD,
//      TEST_PG_ADMIN_URL (postgresql://postgres@127.0.0.1:5432/postgres), TEST_REDIS_URL (redis://127.0.0.1:6379/0),
//      BENCH_PEER_TOKEN_URL, BENCH_PEER_INTROSPECT_URL, BENCH_PEER_CLIENT_ID, BENCH_PEER_CLIENT_SECRET,
//      BENCH_PEER_SCOPE (api:read), BENCH_WITH_PEER=1 (copy ../shared/bench-peer, or BENCH_PEER_DIR, and start oidc-provider),
//      BENCH_PROFILE=<dir> (CPU-profile every API process during each measured scenario: <dir>/<scenario>-<pid>.cpuprofile;
//      summarise with `node bench/profile/analyze.mjs <dir>/<scenario>-*.cpuprofile`; BENCH_PROFILE_KIND=heap: the
//      allocations instead, <dir>/<scenario>-<pid>.heapprofile, `node bench/profile/heap-analyze.mjs`).
import { execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import argon2 from 'argon2';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { adminQuery, cpuTimes, imageNodeOptions } from './bench-support.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const PORT = Number(env.BENCH_PORT ?? 8300);
const DURATION = Number(env.BENCH_DURATION ?? 10);
const WARMUP = Number(env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 32);
// Two API processes pay off on the 2-core reference machine, narrowly (docs/performance.md, "API processes").
const API_WORKERS = Number(env.BENCH_API_WORKERS ?? 2);
const BASE = `http://127.0.0.1:${PORT}`;
const API = `${BASE}/api/v1`;
const ADMIN_URL = env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const DB_NAME = `agentauth_bench_${process.pid}`;
const SCENARIOS = (
  env.BENCH_SCENARIOS ??
  'static_discovery,client_credentials,client_credentials_cold,client_credentials_private_key_jwt,introspect,bearer_get_agent,bearer_get_agent_dpop,policy_evaluate,refresh_rotate'
)
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const PROFILE_DIR = env.BENCH_PROFILE ? path.resolve(env.BENCH_PROFILE) : undefined;
// BENCH_PROFILE_KIND=heap: allocations instead of CPU (bench/profile/heap-preload.cjs, <scenario>-<pid>.heapprofile).
const PROFILE_KIND = env.BENCH_PROFILE_KIND === 'heap' ? 'heap' : 'cpu';
const PROFILE_EXT = PROFILE_KIND === 'heap' ? 'heapprofile' : 'cpuprofile';
const ROOTS = 10;
const AGENTS_PER_ROOT = 100;
const COLD_KEYS = 1000;
const POLICIES = 1000;
const SCOPE = 'agents:read';

const log = (msg, extra = {}) => process.stderr.write(`${JSON.stringify({ bench: msg, ...extra })}\n`);
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const enc = encodeURIComponent;
const basic = (id, secret) => `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;

function databaseUrl() {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  return url.toString();
}

function appDatabaseUrl() {
  const url = new URL(databaseUrl());
  url.username = env.BENCH_APP_ROLE ?? 'agentauth_app';
  url.password = env.BENCH_APP_PASSWORD ?? '';
  return url.toString();
}

const admin = (sql) => adminQuery(ADMIN_URL, sql);

// ---------------------------------------------------------------------------------------------- server
let server;
const serverEnv = {
  ...env,
  NODE_ENV: 'production',
  ENVIRONMENT: 'production',
  PORT: String(PORT),
  HOST: '127.0.0.1',
  PUBLIC_BASE_URL: BASE,
  API_WORKERS: String(API_WORKERS),
  // Production refuses an owner/superuser login: the API logs in as the least-privilege app role (the
  // migration enables its login; a password is only needed where PostgreSQL does not trust local logins).
  DATABASE_URL: appDatabaseUrl(),
  MIGRATIONS_DATABASE_URL: databaseUrl(),
  DATABASE_POOL_SIZE: '20',
  REDIS_URL,
  REDIS_KEY_PREFIX: `aa:bench:${process.pid}:`,
  SECRET_KEY: randomBytes(32).toString('base64url'),
  ADMIN_API_KEY: randomBytes(32).toString('base64url'),
  BOOTSTRAP_OPEN: 'true',
  RATE_LIMIT_AGENT_PER_MINUTE: '10000000',
  RATE_LIMIT_IP_PER_MINUTE: '10000000',
  BOOTSTRAP_RATE_LIMIT_PER_HOUR: '10000000',
  LOG_LEVEL: 'warn',
  // as the production image runs it (deploy/Dockerfile)
  NODE_OPTIONS: imageNodeOptions(root),
};

// BENCH_TRACING=1: the API exports OpenTelemetry traces to an OTLP sink of its own
// process (bench/otlp-sink.mjs), so the cost of tracing on can be read against a run without it.
let sink;
async function startOtlpSink() {
  const port = PORT + 100;
  sink = spawn(process.execPath, [path.join(root, 'bench/otlp-sink.mjs'), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve) => sink.stdout.once('data', resolve));
  serverEnv.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
  // Every request sampled unless the standard sampler variables say otherwise (e.g. 10 %:
  // OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1).
  serverEnv.OTEL_TRACES_SAMPLER = env.OTEL_TRACES_SAMPLER ?? 'always_on';
  log('otlp sink ready', { port });
}

async function stopOtlpSink() {
  if (!sink) return;
  const out = new Promise((resolve) => {
    let text = '';
    sink.stdout.on('data', (chunk) => (text += chunk));
    sink.once('exit', () => resolve(text.trim()));
  });
  sink.kill('SIGTERM');
  const line = (await out).split('\n').pop();
  if (line) print(JSON.parse(line));
  sink = undefined;
}

async function startServer() {
  const nodeArgs = [];
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    nodeArgs.push(
      '-r',
      path.join(
        root,
        PROFILE_KIND === 'heap' ? 'bench/profile/heap-preload.cjs' : 'bench/profile/preload.cjs',
      ),
    );
    serverEnv.BENCH_PROFILE_DIR = PROFILE_DIR;
  }
  server = spawn(process.execPath, [...nodeArgs, 'dist/apps/api/src/main.js'], {
    cwd: root,
    env: serverEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  server.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  for (let i = 0; i < 300; i++) {
    if (server.exitCode !== null) throw new Error(`API exited: ${stderr}`);
    try {
      const res = await fetch(`${BASE}/ready`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`API not ready after 60 s: ${stderr}`);
}

// The nest_express_floor line: a bare Nest 11 + @nestjs/platform-express app (bench/floor-app.ts) serving the
// API's own discovery document, as many processes as the API, measured in the same run with the same load.
let floor;
async function measureFloor() {
  const body = await (await fetch(`${BASE}/.well-known/oauth-authorization-server`)).text();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bench-floor-')), 'discovery.json');
  writeFileSync(file, body);
  const port = PORT + 2;
  floor = spawn(process.execPath, ['dist/bench/floor-app.js'], {
    cwd: root,
    env: {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      FLOOR_BODY_FILE: file,
      FLOOR_WORKERS: String(API_WORKERS),
      NODE_ENV: 'production',
      NODE_OPTIONS: serverEnv.NODE_OPTIONS,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    floor.stdout.once('data', resolve);
    floor.once('exit', (code) => reject(new Error(`floor app exited (${code})`)));
  });
  try {
    return await measure('nest_express_floor', {
      target: 'floor',
      url: `http://127.0.0.1:${port}/.well-known/oauth-authorization-server`,
      method: 'GET',
      workers: API_WORKERS,
      bytes: Buffer.byteLength(body),
    });
  } finally {
    floor.kill('SIGTERM');
    floor = undefined;
  }
}

function stopServer() {
  if (floor) floor.kill('SIGTERM');
  if (server && server.exitCode === null) server.kill('SIGTERM');
}

/** A process's cluster workers, or the process itself. */
function childPids(pid) {
  if (!pid) return [];
  try {
    const children = execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return children.length > 0 ? children : [pid];
  } catch {
    return [pid];
  }
}

/** The API's processes: the cluster primary's workers, or the single process. */
function apiPids() {
  if (!server?.pid) return [];
  try {
    const children = execFileSync('pgrep', ['-P', String(server.pid)])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return children.length > 0 ? children : [server.pid];
  } catch {
    return [server.pid];
  }
}

/** BENCH_PROFILE: each API process writes the profile since its last one; kept under the scenario's name. */
async function cutProfiles(scenario) {
  if (!PROFILE_DIR) return;
  const pids = apiPids();
  for (const pid of pids) process.kill(pid, 'SIGWINCH');
  await new Promise((r) => setTimeout(r, 1500));
  for (const pid of pids) {
    const file = path.join(PROFILE_DIR, `${pid}.${PROFILE_EXT}`);
    if (!existsSync(file)) continue;
    if (scenario) renameSync(file, path.join(PROFILE_DIR, `${scenario}-${pid}.${PROFILE_EXT}`));
    else rmSync(file);
  }
}

/** CPU seconds (user + system) a process has used so far (/proc, clock ticks of 10 ms). */
function rssMb() {
  if (!server?.pid) return [];
  const pids = [server.pid];
  try {
    pids.push(
      ...execFileSync('pgrep', ['-P', String(server.pid)])
        .toString()
        .split('\n')
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    /* no children (API_WORKERS=1) */
  }
  return pids.map((pid) => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { pid, rss_mb: Math.round(kb / 1024) };
  });
}

// ----------------------------------------------------------------------------------------------- http
async function call(method, url, { headers = {}, json, form } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers } };
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = form;
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function expectOk(promise, what) {
  const res = await promise;
  if (res.status < 200 || res.status > 299)
    throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function token(clientId, secret, scope = SCOPE) {
  const body = await expectOk(
    call('POST', `${API}/auth/token`, {
      headers: { authorization: basic(clientId, secret) },
      form: `grant_type=client_credentials&scope=${enc(scope)}`,
    }),
    'client_credentials',
  );
  return body;
}

/** An ES256 key pair for client assertions and DPoP proofs, with its public JWK. */
function es256Pair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, jwk: publicKey.export({ format: 'jwk' }) };
}

/** A compact ES256 JWS (what a client library does per request: one P-256 signature). */
function es256Jwt(header, payload, privateKey) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'ES256', ...header })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** A fresh private_key_jwt client assertion (RFC 7523) for `agentId`: a new jti every call. */
function clientAssertion(pair, agentId) {
  const now = Math.floor(Date.now() / 1000);
  return es256Jwt(
    { typ: 'JWT' },
    { iss: agentId, sub: agentId, aud: BASE, jti: randomUUID(), iat: now, exp: now + 60 },
    pair.privateKey,
  );
}

/** A fresh DPoP proof (RFC 9449) for `htm htu`, with `ath` when an access token accompanies it. */
function dpopProof(pair, htm, htu, accessToken) {
  const claims = { jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = createHash('sha256').update(accessToken).digest('base64url');
  return es256Jwt({ typ: 'dpop+jwt', jwk: pair.jwk }, claims, pair.privateKey);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

// ----------------------------------------------------------------------------------------------- seed
async function seed() {
  const started = Date.now();
  const roots = await pool([...Array(ROOTS).keys()], 4, (i) =>
    expectOk(call('POST', `${API}/agents/bootstrap`, { json: { name: `bench-root-${i}` } }), 'bootstrap'),
  );
  const rootTokens = await pool(roots, 4, (r) =>
    token(
      r.agent.id,
      r.credential.api_key,
      'agents:read agents:write credentials:write policies:read policies:write tokens:introspect',
    ),
  );
  const agents = [];
  await pool(
    roots.map((r, i) => [r, rootTokens[i].access_token]),
    ROOTS,
    async ([r, bearer]) => {
      for (let j = 1; j < AGENTS_PER_ROOT; j++) {
        const agent = await expectOk(
          call('POST', `${API}/agents`, {
            headers: { authorization: `Bearer ${bearer}` },
            json: { name: `bench-agent-${j}`, allowed_scopes: [SCOPE] },
          }),
          'create agent',
        );
        agents.push({ root: r, agent, bearer });
      }
    },
  );
  const cold = await pool(agents.slice(0, COLD_KEYS), 8, async ({ agent, bearer }) => {
    const key = await expectOk(
      call('POST', `${API}/credentials`, {
        headers: { authorization: `Bearer ${bearer}` },
        json: { agent_id: agent.id, scopes: [SCOPE] },
      }),
      'create credential',
    );
    return { clientId: agent.id, secret: key.api_key };
  });
  const tree0 = agents.filter((a) => a.root === roots[0]).map((a) => a.agent.id);
  let policies = 0;
  if (SCENARIOS.includes('policy_evaluate')) {
    await pool([...Array(POLICIES).keys()], 8, async (i) => {
      const subject = i % 10 === 0 ? '*' : tree0[i % tree0.length];
      const res = await call('POST', `${API}/policies`, {
        headers: { authorization: `Bearer ${rootTokens[0].access_token}` },
        json: {
          name: `bench-policy-${i}`,
          // Denies never hit the measured action (agents:read), so every scenario stays all-2xx; the
          // evaluator still has to consider every candidate policy of the tree.
          effect: i % 3 !== 0 && i % 7 === 0 ? 'deny' : 'allow',
          subjects: [subject],
          actions: [i % 3 === 0 ? 'agents:*' : `bench${i}:read`],
          resources: [i % 5 === 0 ? 'https://api-*.example.com/*' : '*'],
          conditions: i % 4 === 0 ? { ip_cidrs: ['10.0.0.0/8', '2001:db8::/32'] } : {},
          priority: i % 10,
          enabled: true,
        },
      });
      if (res.status === 201) policies++;
    });
  }
  log('seeded', {
    roots: roots.length,
    agents: agents.length + roots.length,
    cold_keys: cold.length,
    policies,
    seconds: (Date.now() - started) / 1000,
  });
  return { roots, rootTokens, agents, cold, tree0 };
}

// -------------------------------------------------------------------------------------------- measure
async function measure(scenario, opts) {
  const base = {
    url: opts.url,
    connections: CONNECTIONS,
    method: opts.method ?? 'POST',
    headers: opts.headers,
    body: opts.body,
    requests: opts.requests,
  };
  if (WARMUP > 0 && !opts.noWarmup) await autocannon({ ...base, duration: WARMUP });
  if (!opts.target) await cutProfiles();
  const pids = opts.target === 'floor' ? childPids(floor?.pid) : opts.target ? (opts.pids ?? []) : apiPids();
  const times0 = pids.map(cpuTimes);
  const r = await autocannon({ ...base, duration: DURATION });
  const times = pids.map(cpuTimes);
  const cpu = times.reduce((sum, t, i) => sum + t.user + t.system - times0[i].user - times0[i].system, 0);
  const system = times.reduce((sum, t, i) => sum + t.system - times0[i].system, 0);
  if (!opts.target) await cutProfiles(scenario);
  const line = {
    scenario,
    rps: Math.round((r['2xx'] / r.duration) * 10) / 10,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    requests: r.requests.total,
    duration_s: Math.round(r.duration * 100) / 100,
    connections: CONNECTIONS,
    // The API processes' CPU (user + system) per answered request: steadier than rps on a shared machine.
    ...(pids.length > 0 ? { cpu_us_per_request: Math.round((cpu * 1e6) / r.requests.total) } : {}),
    // …of which the kernel's (system time: sockets; on one machine a loopback send also runs the receiving
    // side's TCP work — PostgreSQL's, Redis's, the load generator's — in the sender's time).
    ...(pids.length > 0 ? { sys_us_per_request: Math.round((system * 1e6) / r.requests.total) } : {}),
    ...(opts.target ? { target: opts.target } : {}),
    ...(opts.workers ? { workers: opts.workers, bytes: opts.bytes } : {}),
    ...(floorLine && !opts.target ? { vs_floor: ratio(line0(r), floorLine) } : {}),
    ...(floorLine?.cpu_us_per_request && pids.length > 0 && !opts.target
      ? {
          cpu_vs_floor:
            Math.round((floorLine.cpu_us_per_request / ((cpu * 1e6) / r.requests.total)) * 100) / 100,
        }
      : {}),
  };
  print(line);
  return line;
}

/** The floor line of this run: every scenario after it prints its throughput as a fraction of the floor's. */
let floorLine;
const line0 = (r) => ({ rps: r['2xx'] / r.duration });
const ratio = (a, b) => (a && b && b.rps > 0 ? Math.round((a.rps / b.rps) * 100) / 100 : null);

const form = { 'content-type': 'application/x-www-form-urlencoded' };

/** One sequential loop per connection for DURATION seconds (state carried from response to request). */
async function measureLoops(scenario, states, step) {
  const latencies = [];
  let ok = 0;
  let failed = 0;
  const started = Date.now();
  const until = started + DURATION * 1000;
  await Promise.all(
    states.map(async (initial) => {
      let state = initial;
      while (Date.now() < until) {
        const t0 = performance.now();
        const result = await step(state);
        latencies.push(performance.now() - t0);
        if (result.ok) ok++;
        else failed++;
        state = result.next;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0);
  const line = {
    scenario,
    rps: Math.round((ok / seconds) * 10) / 10,
    p50_ms: pct(50),
    p99_ms: pct(99),
    errors: 0,
    non2xx: failed,
    requests: ok + failed,
    duration_s: Math.round(seconds * 100) / 100,
    connections: states.length,
    ...(floorLine ? { vs_floor: ratio({ rps: ok / seconds }, floorLine) } : {}),
  };
  print(line);
  return line;
}

async function runScenarios(data, afterScenario = async () => undefined) {
  const results = {};
  const root = data.roots[0];
  const rootBasic = basic(root.agent.id, root.credential.api_key);
  const child = data.agents.find((a) => a.root === root).agent;
  const rootBearer = data.rootTokens[0].access_token;

  for (const scenario of SCENARIOS) {
    if (scenario === 'static_discovery') {
      // The floor's route on the API: no data, no authentication; everything it costs above the floor is ours.
      results[scenario] = await measure(scenario, {
        url: `${BASE}/.well-known/oauth-authorization-server`,
        method: 'GET',
      });
    } else if (scenario === 'client_credentials') {
      results[scenario] = await measure(scenario, {
        url: `${API}/auth/token`,
        headers: { ...form, authorization: rootBasic },
        body: `grant_type=client_credentials&scope=${enc(SCOPE)}`,
      });
    } else if (scenario === 'client_credentials_cold') {
      let i = 0;
      results[scenario] = await measure(scenario, {
        url: `${API}/auth/token`,
        noWarmup: true,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => {
              const key = data.cold[i++ % data.cold.length];
              return {
                ...req,
                headers: { ...form, authorization: basic(key.clientId, key.secret) },
                body: `grant_type=client_credentials&scope=${enc(SCOPE)}`,
              };
            },
          },
        ],
      });
    } else if (scenario === 'client_credentials_private_key_jwt') {
      // The root's public key (ES256): every request carries a newly signed assertion (its jti is single use).
      const pair = es256Pair();
      await expectOk(
        call('POST', `${API}/credentials`, {
          headers: { authorization: `Bearer ${rootBearer}` },
          json: { type: 'public_key', jwk: pair.jwk },
        }),
        'public key',
      );
      const assertionType = enc('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      results[scenario] = await measure(scenario, {
        url: `${API}/auth/token`,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => ({
              ...req,
              headers: form,
              body: `grant_type=client_credentials&scope=${enc(SCOPE)}&client_assertion_type=${assertionType}&client_assertion=${clientAssertion(pair, root.agent.id)}`,
            }),
          },
        ],
      });
    } else if (scenario === 'bearer_get_agent_dpop') {
      // A DPoP-bound token; every request carries a fresh proof (htm, htu, ath; its jti is single use).
      const pair = es256Pair();
      const bound = await expectOk(
        call('POST', `${API}/auth/token`, {
          headers: { authorization: rootBasic, dpop: dpopProof(pair, 'POST', `${API}/auth/token`) },
          form: `grant_type=client_credentials&scope=${enc(SCOPE)}`,
        }),
        'DPoP-bound token',
      );
      const url = `${API}/agents/${child.id}`;
      results[scenario] = await measure(scenario, {
        url,
        method: 'GET',
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => ({
              ...req,
              headers: {
                authorization: `DPoP ${bound.access_token}`,
                dpop: dpopProof(pair, 'GET', url, bound.access_token),
              },
            }),
          },
        ],
      });
    } else if (scenario === 'introspect') {
      const minted = await token(root.agent.id, root.credential.api_key);
      results[scenario] = await measure(scenario, {
        url: `${API}/auth/token/introspect`,
        headers: { ...form, authorization: rootBasic },
        body: `token=${minted.access_token}&token_type_hint=access_token`,
      });
    } else if (scenario === 'bearer_get_agent') {
      results[scenario] = await measure(scenario, {
        url: `${API}/agents/${child.id}`,
        method: 'GET',
        headers: { authorization: `Bearer ${rootBearer}` },
      });
    } else if (scenario === 'policy_evaluate') {
      results[scenario] = await measure(scenario, {
        url: `${API}/policies/evaluate`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${rootBearer}` },
        body: JSON.stringify({
          agent_id: data.tree0[1],
          action: SCOPE,
          resource: '*',
          context: { ip: '10.1.2.3' },
        }),
      });
    } else if (scenario === 'refresh_rotate') {
      // Every connection walks its own refresh family: each response's refresh_token is the next request's.
      // autocannon prepares a connection's next request before the previous response is read, which would
      // replay a used token (reuse detection, by design); so this scenario runs its own sequential loops.
      const chains = await pool([...Array(CONNECTIONS).keys()], 8, async () => {
        const t = await expectOk(
          call('POST', `${API}/auth/token`, {
            headers: { authorization: rootBasic },
            form: `grant_type=client_credentials&scope=${enc(`${SCOPE} offline_access`)}`,
          }),
          'offline_access grant',
        );
        return t.refresh_token;
      });
      results[scenario] = await measureLoops(scenario, chains, async (refresh) => {
        const res = await call('POST', `${API}/auth/token`, {
          headers: { authorization: rootBasic },
          form: `grant_type=refresh_token&refresh_token=${enc(refresh)}`,
        });
        return res.status === 200 ? { ok: true, next: res.body.refresh_token } : { ok: false, next: refresh };
      });
    } else {
      log('unknown scenario', { scenario });
    }
    await afterScenario(scenario);
  }
  return results;
}

// ------------------------------------------------------------------------------------------- reference
function rsaSignReference() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.from('x'.repeat(300));
  const until = Date.now() + 2000;
  let n = 0;
  while (Date.now() < until) {
    sign('sha256', data, privateKey);
    n++;
  }
  return Math.round(n / 2);
}

/** The cold-key ceiling: argon2id verifications per second on every core, at the server's default parameters. */
async function argon2Reference(cores) {
  const options = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  const hash = await argon2.hash('aa_bench_reference-secret', options);
  let n = 0;
  const until = Date.now() + 3000;
  await Promise.all(
    Array.from({ length: cores * 2 }, async () => {
      while (Date.now() < until) {
        await argon2.verify(hash, 'aa_bench_reference-secret');
        n++;
      }
    }),
  );
  return Math.round(n / 3);
}

// ------------------------------------------------------------------------------------------------ peer
async function startPeerFromShared() {
  // BENCH_PEER_DIR: where the peer's folder is when it is not beside the checkout (e.g. a git worktree).
  const shared = env.BENCH_PEER_DIR
    ? path.resolve(env.BENCH_PEER_DIR)
    : path.resolve(root, '..', 'shared', 'bench-peer');
  if (!existsSync(shared)) throw new Error(`no ${shared}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-peer-'));
  cpSync(shared, dir, { recursive: true });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: path.join(dir, 'peer'),
    stdio: 'ignore',
  });
  const port = PORT + 1;
  const peer = spawn(process.execPath, ['peer/server.mjs'], {
    cwd: dir,
    env: { ...env, NODE_ENV: 'production', PORT: String(port), CLUSTER: '1' },
    stdio: 'ignore',
  });
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
      if (res.ok) break;
    } catch {
      /* starting */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid: peer.pid,
    stop: () => peer.kill('SIGTERM'),
    tokenUrl: `http://127.0.0.1:${port}/token`,
    introspectUrl: `http://127.0.0.1:${port}/token/introspection`,
    clientId: 'bench-client',
    secret: 'bench-secret',
    scope: 'api:read',
    opaqueResource: 'urn:bench:opaque',
  };
}

/** The peer's token endpoint, measured like ours (its own process's CPU too, when it was started here). */
async function measurePeerToken(peer) {
  return measure('client_credentials', {
    target: 'peer',
    pids: peer.pid ? [peer.pid] : undefined,
    url: peer.tokenUrl,
    headers: { ...form, authorization: basic(peer.clientId, peer.secret) },
    body: `grant_type=client_credentials&scope=${enc(peer.scope)}`,
  });
}

/** The peer's introspection of one opaque token it minted (its JWTs cannot be introspected). */
async function measurePeerIntrospect(peer) {
  if (!peer.introspectUrl) return undefined;
  const auth = basic(peer.clientId, peer.secret);
  const minted = await call('POST', peer.tokenUrl, {
    headers: { authorization: auth },
    form: `grant_type=client_credentials&scope=${enc(peer.scope)}${peer.opaqueResource ? `&resource=${enc(peer.opaqueResource)}` : ''}`,
  });
  return measure('introspect', {
    target: 'peer',
    pids: peer.pid ? [peer.pid] : undefined,
    url: peer.introspectUrl,
    headers: { ...form, authorization: auth },
    body: `token=${minted.body.access_token}&token_type_hint=access_token`,
  });
}

/** The ratios to the peer: throughput, and CPU per request (the peer's over ours: ours excludes PostgreSQL and Redis). */
function printPeerRatios(ours, peerLines) {
  const cpuRatio = (a, b) =>
    a?.cpu_us_per_request && b?.cpu_us_per_request
      ? Math.round((b.cpu_us_per_request / a.cpu_us_per_request) * 100) / 100
      : null;
  print({
    ratio_vs_peer: {
      client_credentials: ratio(ours.client_credentials, peerLines.token),
      introspect: ratio(ours.introspect, peerLines.introspect),
      bearer_get_agent: ratio(ours.bearer_get_agent, peerLines.introspect),
    },
    cpu_ratio_vs_peer: {
      client_credentials: cpuRatio(ours.client_credentials, peerLines.token),
      introspect: cpuRatio(ours.introspect, peerLines.introspect),
      bearer_get_agent: cpuRatio(ours.bearer_get_agent, peerLines.introspect),
    },
  });
}

// ------------------------------------------------------------------------------------------------ main
async function main() {
  if (!env.BENCH_SKIP_BUILD)
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DB_NAME}"`);
  try {
    execFileSync(process.execPath, ['dist/scripts/migrate.js', 'up'], {
      cwd: root,
      env: { ...serverEnv },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (env.BENCH_TRACING === '1') await startOtlpSink();
    else delete serverEnv.OTEL_EXPORTER_OTLP_ENDPOINT; // tracing off, whatever the shell has set
    await startServer();
    log('api ready', { workers: API_WORKERS, port: PORT });
    const data = await seed();
    floorLine = await measureFloor();
    // The peer runs beside the (idle) API and each of its lines is measured right after ours of the same kind:
    // on a machine shared with other jobs, lines minutes apart are not comparable.
    let peer;
    if (env.BENCH_PEER_TOKEN_URL) {
      peer = {
        tokenUrl: env.BENCH_PEER_TOKEN_URL,
        introspectUrl: env.BENCH_PEER_INTROSPECT_URL,
        clientId: env.BENCH_PEER_CLIENT_ID ?? 'bench-client',
        secret: env.BENCH_PEER_CLIENT_SECRET ?? 'bench-secret',
        scope: env.BENCH_PEER_SCOPE ?? 'api:read',
        opaqueResource: env.BENCH_PEER_OPAQUE_RESOURCE,
        stop: () => undefined,
      };
    } else if (env.BENCH_WITH_PEER === '1') {
      peer = await startPeerFromShared();
    }
    const peerLines = {};
    try {
      const ours = await runScenarios(data, async (scenario) => {
        if (peer && scenario === 'client_credentials') peerLines.token = await measurePeerToken(peer);
        if (peer && scenario === 'introspect') peerLines.introspect = await measurePeerIntrospect(peer);
      });
      if (peer) {
        peerLines.token ??= await measurePeerToken(peer);
        peerLines.introspect ??= await measurePeerIntrospect(peer);
      }
      const cores = (await import('node:os')).cpus().length;
      print({ reference: 'rs256_sign_per_s_1core', node_crypto: rsaSignReference(), cores });
      print({
        reference: 'argon2id_verify_per_s_all_cores',
        node_argon2: await argon2Reference(cores),
        cores,
        memory_kib: 19456,
        time_cost: 2,
      });
      print({ memory: rssMb() });
      if (peer) printPeerRatios(ours, peerLines);
    } finally {
      peer?.stop();
    }
  } finally {
    stopServer();
    await new Promise((r) => setTimeout(r, 500));
    await stopOtlpSink();
    await admin(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`).catch(() => undefined);
    await dropRedisKeys(serverEnv.REDIS_KEY_PREFIX).catch(() => undefined);
  }
}

async function dropRedisKeys(prefix) {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

main().catch((error) => {
  stopServer();
  log('failed', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
