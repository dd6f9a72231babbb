import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import { MIGRATIONS } from '../../../migrations';
import { aTree, anAgent, API, type HttpTarget } from '../../factories/agents';
import { freePort, tempDir, waitForReady } from '../../support/api-process';
import { adminUrl, databaseName, databaseUrl, runId, TEST_DB_PREFIX, workerId } from '../../support/test-env';
import { ensureWorkerBuild, WorkerProcess } from '../../support/worker-process';

/**
 * `make run` in the PostgreSQL/Redis mode, step by step as the Makefile runs it, on the compiled code:
 * `dist/scripts/db-setup.js` creates a role and a database of its own from DATABASE_URL (connecting as the
 * local superuser), `dist/scripts/migrate.js` migrates them as that role (not a superuser), and
 * `scripts/run-all.sh` starts the worker and the API. Then: /ready, /docs, /docs-json, a few requests, and
 * every line both processes print is one JSON object with the required fields, nothing on stderr.
 *
 * The Redis is a server of this test's own, configured with `maxmemory-policy allkeys-lru`: BullMQ warns
 * about that policy with console.warn whenever a queue connects (the worker at start, the API on its first
 * enqueue), a real dependency printing plain text that both processes must turn into JSON lines.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const REQUIRED_FIELDS = ['service_name', 'environment', 'hostname', 'timestamp', 'level', 'msg'];
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A compiled script run to completion as the Makefile runs it (`npm run db:setup` = `node dist/scripts/…`). */
async function runScript(script: string, env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'scripts', `${script}.js`)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = new WorkerProcess(child);
  await run.exited;
  return run;
}

/** A Redis server of this test's own (no persistence), evicting keys like a cache would. */
async function startEvictingRedis(dir: string): Promise<{ url: string; server: ChildProcess }> {
  const port = await freePort();
  const server = spawn(
    'redis-server',
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      ...['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}/0`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error('redis-server (needed by this test) exited at start');
    const pong = await probe
      .connect()
      .then(() => probe.ping())
      .catch(() => undefined);
    if (pong === 'PONG') break;
    probe.disconnect();
    if (Date.now() > deadline) throw new Error('redis-server did not answer within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  probe.disconnect();
  return { url, server };
}

async function asSuperuser<T>(work: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Problems of one stdout line against the structured-logging rule (empty = fine). */
function lineProblems(line: Record<string, unknown>): string[] {
  const problems = REQUIRED_FIELDS.filter((f) => line[f] === undefined).map((f) => `no ${f}`);
  if (!ISO_UTC.test(String(line.timestamp))) problems.push('timestamp not ISO 8601 UTC');
  return problems;
}

describe('make run, PostgreSQL/Redis mode: db-setup, migrate, run-all.sh (compiled)', () => {
  jest.setTimeout(240_000);
  const workDir = tempDir('make-run');
  // Under this run's prefix: global teardown drops the database even if afterAll does not run.
  const database = databaseName(`run_${workerId()}`);
  const role = `${TEST_DB_PREFIX}${runId()}_run_${workerId()}`;
  const password = "run-password-with-'quote";
  let redis: { url: string; server: ChildProcess } | undefined;
  let env: NodeJS.ProcessEnv;
  let run: WorkerProcess | undefined;
  let baseUrl: string;
  let target: HttpTarget;

  const dropRoleAndDatabase = () =>
    asSuperuser(async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    });

  /** Stops both processes as a terminal's Ctrl-C does: SIGINT to the process group of run-all.sh. */
  async function stopRun(): Promise<void> {
    if (!run?.running) return;
    process.kill(-run.pid, 'SIGINT');
    const timer = setTimeout(() => process.kill(-run!.pid, 'SIGKILL'), 30_000);
    await run.exited;
    clearTimeout(timer);
  }

  beforeAll(async () => {
    await dropRoleAndDatabase();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    target = { http: baseUrl };
    const [startedRedis] = await Promise.all([startEvictingRedis(workDir), ensureWorkerBuild()]);
    redis = startedRedis;
    const url = new URL(databaseUrl(`run_${workerId()}`));
    url.username = encodeURIComponent(role);
    url.password = encodeURIComponent(password);
    env = { ...process.env, ENVIRONMENT: 'development', DATABASE_URL: url.toString() };
    delete env.MIGRATIONS_DATABASE_URL;
    Object.assign(env, {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'aa:',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: baseUrl,
      API_WORKERS: '1',
      LOG_LEVEL: 'debug',
    });
  });

  afterAll(async () => {
    await stopRun();
    redis?.server.kill('SIGTERM');
    await dropRoleAndDatabase();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('db-setup creates the role and the database named by DATABASE_URL', async () => {
    const setup = await runScript('db-setup', env);
    expect({ code: (await setup.exited).code, stderr: setup.stderr, nonJson: setup.nonJson }).toEqual({
      code: 0,
      stderr: [],
      nonJson: [],
    });
    expect(setup.lines.map((l) => l.msg)).toEqual(['created database role', 'created database']);
    const owner = await asSuperuser((admin) =>
      admin.query<{ owner: string; superuser: boolean }>(
        `SELECT pg_get_userbyid(d.datdba) AS owner, r.rolsuper AS superuser
         FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = $1`,
        [database],
      ),
    );
    expect(owner.rows).toEqual([{ owner: role, superuser: false }]);

    // Idempotent: a second `make run` finds both and creates nothing.
    const again = await runScript('db-setup', env);
    expect((await again.exited).code).toBe(0);
    expect(again.lines.map((l) => l.msg)).toEqual([]);
  });

  it('migrate applies every migration as that role', async () => {
    const migrate = await runScript('migrate', env);
    expect({ code: (await migrate.exited).code, stderr: migrate.stderr, nonJson: migrate.nonJson }).toEqual({
      code: 0,
      stderr: [],
      nonJson: [],
    });
    expect(migrate.lines.find((l) => l.msg === 'migrations applied')).toMatchObject({
      count: MIGRATIONS.length,
      service_name: 'agentauth-migrate',
    });
  });

  it('run-all.sh starts the worker and the API: /ready 200, /docs, /docs-json', async () => {
    const child = spawn('bash', [path.join(ROOT, 'scripts', 'run-all.sh')], {
      cwd: workDir,
      env,
      detached: true, // its own process group, stopped like a terminal stops it (stopRun)
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    run = new WorkerProcess(child);
    await waitForReady(baseUrl, run, 'make run (scripts/run-all.sh)');
    await run.waitForLine((l) => l.msg === 'AgentAuth worker started');
    expect(run.lines.find((l) => String(l.msg).startsWith('AgentAuth running in'))).toMatchObject({
      service_name: 'agentauth-api',
      msg: expect.stringContaining('running in PostgreSQL/Redis mode'),
    });

    const ready = await request(baseUrl).get('/ready').expect(200);
    expect(ready.body.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
    await request(baseUrl).get('/docs').expect(200).expect('Content-Type', /html/);
    const openapi = await request(baseUrl).get('/docs-json').expect(200).expect('Content-Type', /json/);
    expect(JSON.parse(openapi.text)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining([`${API}/agents`, '/ready']));
  });

  it('serves requests, logs each as one JSON line, and turns dependency console output into JSON', async () => {
    expect(run?.running).toBe(true);
    const responses = {
      notFound: await request(baseUrl).get(`${API}/nothing-here`).expect(404),
      invalid: await request(baseUrl)
        .post(`${API}/agents/bootstrap`)
        .send({ name: 42, unknown_field: true })
        .expect(400),
      ready: await request(baseUrl).get('/ready').expect(200),
    };
    // A deactivation is a webhook event: the API's first enqueue opens a BullMQ queue on the evicting Redis.
    const root = await aTree(target);
    const child = await anAgent(target, root);
    const deactivated = await request(baseUrl).delete(`${API}/agents/${child.id}`).set(root.auth).expect(200);

    const a = run!;
    const consoleLine = (service: string) => (l: Record<string, unknown>) =>
      l.service_name === service && l.component === 'console';
    // BullMQ's warning shows up either as a JSON line of each process or as plain text on stderr/stdout.
    const deadline = Date.now() + 30_000;
    const seen = () =>
      ['agentauth-api', 'agentauth-worker'].every((s) => a.lines.some(consoleLine(s))) ||
      a.stderr.length + a.nonJson.length > 0;
    while (!seen() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect({ stderr: a.stderr, nonJson: a.nonJson }).toEqual({ stderr: [], nonJson: [] });
    for (const service of ['agentauth-api', 'agentauth-worker']) {
      expect(a.lines.find(consoleLine(service))).toMatchObject({
        level: 'warn',
        msg: expect.stringContaining('Eviction policy is allkeys-lru'),
      });
    }
    for (const [name, res] of Object.entries({ ...responses, deactivated })) {
      const id = res.headers['x-request-id'];
      const line = await a.waitForLine((l) => l.request_id === id && l.msg === 'request completed', 5000);
      expect({ name, line }).toEqual({
        name,
        line: expect.objectContaining({
          service_name: 'agentauth-api',
          method: res.request.method,
          route: expect.any(String),
          status: res.status,
          duration_ms: expect.any(Number),
        }),
      });
    }
    const deactivatedId = deactivated.headers['x-request-id'];
    expect(
      a.lines.find((l) => l.request_id === deactivatedId && l.msg === 'request completed'),
    ).toMatchObject({
      agent_id: root.agent.id,
      route: `${API}/agents/:id`,
    });

    await stopRun();
    expect(a.nonJson).toEqual([]);
    expect(a.stderr).toEqual([]);
    const bad = a.lines
      .map((line) => ({ line, problems: lineProblems(line) }))
      .filter((l) => l.problems.length);
    expect(bad).toEqual([]);
    expect(new Set(a.lines.map((l) => l.service_name))).toEqual(
      new Set(['agentauth-api', 'agentauth-worker']),
    );
  });
});
