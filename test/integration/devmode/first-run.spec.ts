import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort, tempDir } from '../../support/api-process';

/**
 * A newcomer's first run (issue #24), on a fresh copy of the repository (sources, Makefile, .env.example and
 * README; node_modules linked (the workspace packages to the copy's own), no .env, no dist, no data): `PORT=<port> make run` builds once, starts quietly
 * with the start-up line last, follows PORT everywhere; the README's "Try it in two minutes" block — taken
 * from README.md as it is — runs against it and every step's answer is checked; `make audit-verify` works in
 * the embedded mode; Ctrl-C ends it cleanly. Then the start-up failures a newcomer meets, each of which must
 * name its fix: a changed SECRET_KEY on existing data, a busy port, PostgreSQL not running, a bad variable.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const COPIED = [
  'Makefile',
  'package.json',
  'package-lock.json',
  '.env.example',
  'README.md',
  'tsconfig.json',
  'tsconfig.build.json',
  'ormconfig.ts',
  'apps',
  'libs',
  'migrations',
  'scripts',
  'bench',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every line a process printed, stdout and stderr interleaved in arrival order. */
class Output {
  readonly lines: { stream: 'out' | 'err'; text: string }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    for (const [stream, source] of [
      ['out', child.stdout],
      ['err', child.stderr],
    ] as const) {
      let pending = '';
      source!.setEncoding('utf8');
      source!.on('data', (chunk: string) => {
        pending += chunk;
        const parts = pending.split('\n');
        pending = parts.pop() ?? '';
        for (const text of parts) if (text) this.lines.push({ stream, text });
      });
      source!.on('end', () => {
        if (pending) this.lines.push({ stream, text: pending });
      });
    }
    this.exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get text(): string[] {
    return this.lines.map((l) => l.text);
  }

  /** The JSON object lines (the API's log lines). */
  get json(): Record<string, unknown>[] {
    return this.text.flatMap((t): Record<string, unknown>[] => {
      try {
        const parsed: unknown = JSON.parse(t);
        return isRecord(parsed) ? [parsed] : [];
      } catch {
        return [];
      }
    });
  }
}

/** Only what a shell on a fresh machine has: nothing of this test run's database, Redis or secrets. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', ...extra };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

async function waitForReady(base: string, run: Output, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${base}/ready`)
      .then((res) => res.status === 200)
      .catch(() => false);
    if (ready) return;
    if (run.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`make run did not become ready:\n${run.text.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function decodeClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The fenced block under README.md's "Try it in two minutes": its set-up lines and its numbered steps. */
function readmeWalkthrough(readme: string): { setup: string; steps: { n: number; text: string }[] } {
  const section = /### Try it in two minutes\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme);
  if (!section) throw new Error('README.md has no "Try it in two minutes" sh block');
  const parts = section[1].split(/^(?=# \d+\. )/m);
  const steps = parts.slice(1).map((text) => ({ n: Number(/^# (\d+)\./.exec(text)![1]), text }));
  return { setup: parts[0], steps };
}

/** Runs a compiled API of the copy with `env` and waits for it to exit (these runs are meant to fail). */
async function runApiUntilExit(cwd: string, env: Record<string, string>): Promise<Output> {
  const run = new Output(
    spawn(process.execPath, [path.join(cwd, 'dist', 'apps', 'api', 'src', 'main.js')], {
      cwd,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 90_000);
  await run.exited;
  clearTimeout(timer);
  return run;
}

function fatalLine(run: Output): Record<string, unknown> {
  const fatal = run.json.filter((l) => l.level === 'fatal');
  expect(fatal).toHaveLength(1);
  return fatal[0];
}

/**
 * The copy's node_modules: every installed package linked from this repository's, except the workspace
 * packages (`@agentauth/sdk`, `@agentauth/cli`), which point at the copy's own sources — its `make run` builds
 * its CLI against the SDK it has just built, not against this repository's `libs/sdk/dist`, which another
 * test's build may be replacing at that moment.
 */
function linkNodeModules(copy: string): void {
  const installed = path.join(ROOT, 'node_modules');
  const linked = path.join(copy, 'node_modules');
  fs.mkdirSync(path.join(linked, '@agentauth'), { recursive: true });
  for (const entry of fs.readdirSync(installed)) {
    if (entry === '@agentauth') continue;
    fs.symlinkSync(path.join(installed, entry), path.join(linked, entry));
  }
  for (const workspace of fs.readdirSync(path.join(installed, '@agentauth'))) {
    const target = fs.readlinkSync(path.join(installed, '@agentauth', workspace)); // e.g. ../../libs/sdk
    fs.symlinkSync(target, path.join(linked, '@agentauth', workspace), 'dir');
  }
}

describe('first run from a fresh copy: make run, the README walkthrough, Ctrl-C, start-up failures', () => {
  jest.setTimeout(300_000);
  const clone = tempDir('first-run');
  let port: number;
  let make: Output | undefined;
  let base: string;
  /** The walkthrough's shell variables after its last step. */
  const vars: Record<string, string> = {};

  beforeAll(async () => {
    for (const entry of COPIED) {
      fs.cpSync(path.join(ROOT, entry), path.join(clone, entry), {
        recursive: true,
        preserveTimestamps: true,
      });
    }
    linkNodeModules(clone);
    // `PORT=8100 make run` as the README says, unless 8100 is taken on this machine.
    port = (await portIsFree(8100)) ? 8100 : await freePort();
    base = `http://localhost:${port}`;
  });

  afterAll(async () => {
    if (make && make.child.exitCode === null && make.child.signalCode === null) {
      process.kill(-make.child.pid!, 'SIGKILL');
      await make.exited;
    }
    fs.rmSync(clone, { recursive: true, force: true });
  });

  it('make run: one build, .env from .env.example, a quiet start whose last line is the start-up line', async () => {
    make = new Output(
      // `-o` the install stamp: node_modules is this repository's (linked), never reinstalled by a test.
      spawn('make', ['-o', 'node_modules/.agentauth-installed', 'run'], {
        cwd: clone,
        env: cleanEnv({ PORT: String(port) }),
        detached: true, // its own process group: Ctrl-C below reaches make and everything it started
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await waitForReady(`http://127.0.0.1:${port}`, make, 240_000);
    const text = make.text;
    expect(text.filter((t) => t === 'npm run --silent build')).toHaveLength(1);
    expect(text).toContain('created .env from .env.example (edit it for anything but local development)');
    expect(
      text.filter((t) =>
        /npm (warn|WARN)|LegacyRouteConverter|Nest application successfully started/.test(t),
      ),
    ).toEqual([]);
    // Nothing but the two make lines above and JSON log lines.
    expect(text.filter((t) => !t.startsWith('{'))).toEqual([
      'npm run --silent build',
      'created .env from .env.example (edit it for anything but local development)',
    ]);
    const logs = make.json;
    const startup = `AgentAuth running in embedded mode: PostgreSQL (PGlite) at ./.agentauth/pgdata, in-process Redis and jobs; API ${base}/api/v1, docs ${base}/docs`;
    const startIndex = logs.findIndex((l) => l.msg === startup);
    expect(startIndex).toBeGreaterThan(0);
    // The last line before requests (after it: only the log lines of the readiness polls).
    expect(logs.slice(startIndex + 1).filter((l) => l.request_id === undefined)).toEqual([]);
    // The only warnings: the example secrets of the default .env, each naming the fix.
    expect(logs.filter((l) => l.level !== 'info').map((l) => `${String(l.level)} ${String(l.msg)}`)).toEqual([
      expect.stringMatching(
        /^warn ADMIN_API_KEY is the example value from \.env\.example .*set a real secret/,
      ),
      expect.stringMatching(/^warn SECRET_KEY is the example value from \.env\.example.*set a real secret/),
    ]);
    expect(fs.existsSync(path.join(clone, '.env'))).toBe(true);
  });

  it('answers GET / with the index, and PORT shows in every URL (discovery, index)', async () => {
    const index = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as {
      links: Record<string, string>;
    };
    expect(index.links).toMatchObject({
      docs: `${base}/docs`,
      api: `${base}/api/v1`,
      health: `${base}/health`,
    });
    const discovery = (await (
      await fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`)
    ).json()) as Record<string, string>;
    expect(discovery.issuer).toBe(base);
    expect(discovery.token_endpoint).toBe(`${base}/api/v1/auth/token`);
    expect(discovery.jwks_uri).toBe(`${base}/api/v1/auth/jwks`);
  });

  it('runs the README walkthrough as written and gets the answer each step promises', async () => {
    const { setup, steps } = readmeWalkthrough(fs.readFileSync(path.join(clone, 'README.md'), 'utf8'));
    expect(steps.map((s) => s.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const names = ['ROOT_ID', 'ROOT_KEY', 'TOKEN', 'CHILD_ID', 'CHILD_KEY', 'DELEGATION', 'DELEGATED'];
    const script = [
      setup,
      ...steps.map((s) => `echo "@@step ${s.n}"\n${s.text}`),
      'echo "@@vars"',
      ...names.map((n) => `echo "${n}=$${n}"`),
    ].join('\n');
    const shell = new Output(
      spawn('bash', ['-eo', 'pipefail', '-c', script], {
        cwd: clone,
        env: cleanEnv({ PORT: String(port) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const exit = await shell.exited;
    const out = shell.lines.filter((l) => l.stream === 'out').map((l) => l.text);
    expect({ exit, stderr: shell.lines.filter((l) => l.stream === 'err') }).toEqual({
      exit: { code: 0, signal: null },
      stderr: [],
    });
    // Each step's output, between the markers put before each step; then the variables.
    const varsAt = out.indexOf('@@vars');
    const answers = new Map<number, string[]>();
    let current: string[] = [];
    for (const line of out.slice(0, varsAt)) {
      const marker = /^@@step (\d+)$/.exec(line);
      if (marker) answers.set(Number(marker[1]), (current = []));
      else current.push(line);
    }
    for (const line of out.slice(varsAt + 1)) {
      vars[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
    expect(Object.keys(vars).sort()).toEqual([...names].sort());
    const step = (n: number) => answers.get(n) ?? [];
    const json = (n: number, i = 0) => JSON.parse(step(n)[i]) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

    // 1. bootstrap: the root agent and its key
    expect(step(1)).toEqual([`root agent ${vars.ROOT_ID}, API key ${vars.ROOT_KEY}`]);
    expect(vars.ROOT_ID).toMatch(UUID);
    expect(vars.ROOT_KEY).toMatch(/^aa_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    // 2. its token's claims: issued by this server on this PORT
    expect(json(2)).toMatchObject({ iss: base, sub: vars.ROOT_ID, client_id: vars.ROOT_ID });
    expect(json(2).scope.split(' ')).toEqual(expect.arrayContaining(['agents:write', 'delegations:write']));
    expect(decodeClaims(vars.TOKEN)).toEqual(json(2));
    // 3. the agents it sees
    expect(step(3)).toEqual(['["my-root"]']);
    // 4. the child agent, 5. its key
    expect(step(4)).toEqual([`child agent ${vars.CHILD_ID}`]);
    expect(vars.CHILD_ID).toMatch(UUID);
    expect(step(5)).toEqual([`child API key ${vars.CHILD_KEY}`]);
    expect(vars.CHILD_KEY).toMatch(/^aa_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    // 6. the child's delegated token: for the root, through the child, the delegated scope only
    expect(json(6)).toMatchObject({
      iss: base,
      sub: vars.ROOT_ID,
      client_id: vars.CHILD_ID,
      act: { sub: vars.CHILD_ID },
      scope: 'agents:read',
      delegation_id: expect.stringMatching(UUID),
    });
    // the delegation token's audience is this server's token endpoint, on this PORT
    expect(decodeClaims(vars.DELEGATION)).toMatchObject({ iss: base, aud: `${base}/api/v1/auth/token` });
    // 7. introspection: active; 8. revoked, then inactive
    expect(step(7)).toEqual(['true']);
    expect(step(8)).toEqual(['200', '{"active":false}']);
    // 9. statistics
    expect(json(9)).toMatchObject({
      agents: { total: 2, by_trust_level: { root: 1, delegated: 1 } },
      credentials: { total: 2 },
      delegations: { active: 1 },
    });
    expect(json(9).audit_events.total).toBeGreaterThan(0);
    // 10. the audit trail, newest first, and the chain verified
    expect(JSON.parse(step(10)[0])).toEqual([
      'token.revoked',
      'token.issued',
      'delegation.used',
      'delegation.created',
      'credential.created',
      'agent.created',
    ]);
    expect(json(10, 1)).toMatchObject({ verified: true, events_checked: json(9).audit_events.total });
  });

  it('make audit-verify checks the chain in the embedded mode (through the running API)', async () => {
    const verify = new Output(
      spawn('make', ['-o', 'node_modules/.agentauth-installed', 'audit-verify'], {
        cwd: clone,
        env: cleanEnv({ PORT: String(port) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(await verify.exited).toEqual({ code: 0, signal: null });
    expect(verify.json).toEqual([
      expect.objectContaining({
        msg: 'audit chain valid',
        verified: true,
        events_checked: expect.any(Number),
      }),
    ]);
    expect(verify.json[0].events_checked).toBeGreaterThan(5);
  });

  it('stops on Ctrl-C cleanly: no "make: ***" line, the embedded PostgreSQL closed', async () => {
    const running = make!;
    const before = running.lines.length;
    process.kill(-running.child.pid!, 'SIGINT');
    const timer = setTimeout(() => process.kill(-running.child.pid!, 'SIGKILL'), 60_000);
    const exit = await running.exited;
    clearTimeout(timer);
    const after = running.text.slice(before);
    expect(after.filter((t) => t.startsWith('make'))).toEqual([]);
    // make itself got the Ctrl-C too: it may end by it (as a terminal expects) but reports no error.
    expect(exit.code === 0 || (exit.code === null && exit.signal === 'SIGINT')).toBe(true);
    expect(running.json.at(-1)).toMatchObject({ msg: 'embedded PostgreSQL stopped' });
    expect(running.lines.filter((l) => l.stream === 'err')).toEqual([]);
  });

  it('a changed SECRET_KEY on existing data: says to restore it or delete ./.agentauth', async () => {
    const run = await runApiUntilExit(clone, {
      PORT: String(await freePort()),
      SECRET_KEY: 'a-different-secret-key-than-the-one-of-the-data',
    });
    expect((await run.exited).code).toBe(1);
    expect(fatalLine(run)).toMatchObject({
      msg: 'startup failed',
      error: expect.stringContaining('SECRET_KEY is not the one the signing keys were encrypted with'),
      fix: 'restore the previous SECRET_KEY, or delete ./.agentauth (the embedded database; all its data is lost) to start over',
    });
    expect(JSON.stringify(run.json)).not.toContain('a-different-secret-key');
    expect(run.text.filter((t) => !t.startsWith('{'))).toEqual([]);
  });

  it('a busy port: says only that, with the port and the variable to change', async () => {
    const blocker = net.createServer();
    const busy = await freePort();
    await new Promise<void>((resolve) => blocker.listen(busy, '0.0.0.0', resolve));
    try {
      const run = await runApiUntilExit(clone, { PORT: String(busy), AGENTAUTH_EMBEDDED_MEMORY: 'true' });
      expect((await run.exited).code).toBe(1);
      expect(fatalLine(run)).toMatchObject({
        error: `port ${busy} is already in use (EADDRINUSE): another process listens on it`,
        fix: 'stop that process, or set PORT to a free port (e.g. PORT=8100 make run)',
      });
      expect(run.json.filter((l) => l.level === 'error')).toEqual([]);
      expect(run.json.filter((l) => /successfully started|AgentAuth running in/.test(String(l.msg)))).toEqual(
        [],
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('PostgreSQL not running: says `make up`, or unset DATABASE_URL for the embedded mode', async () => {
    const closed = await freePort();
    const run = await runApiUntilExit(clone, {
      PORT: String(await freePort()),
      DATABASE_URL: `postgresql://agentauth:dev-password@127.0.0.1:${closed}/agentauth`,
    });
    expect((await run.exited).code).toBe(1);
    expect(fatalLine(run)).toMatchObject({
      error: `cannot connect to PostgreSQL at 127.0.0.1:${closed} (ECONNREFUSED): nothing is listening there`,
      fix: 'start PostgreSQL and Redis with `make up`, or unset DATABASE_URL (and REDIS_URL) for the embedded mode',
    });
    // One JSON line per event, not Nest's plain-text stack traces.
    expect(run.text.filter((t) => !t.startsWith('{'))).toEqual([]);
    expect(JSON.stringify(run.json)).not.toContain('dev-password');
  });

  it('a second make run keeps the data and stops on SIGTERM to make alone without "make: *** … Terminated"', async () => {
    const again = new Output(
      spawn('make', ['-o', 'node_modules/.agentauth-installed', 'run'], {
        cwd: clone,
        env: cleanEnv({ PORT: String(port) }),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    make = again;
    await waitForReady(`http://127.0.0.1:${port}`, again, 240_000);
    expect(again.json.find((l) => l.msg === 'embedded PostgreSQL ready')).toMatchObject({
      migrations_applied: 0,
    });
    // What `kill <pid of make>` or a supervisor does: make passes SIGTERM on to the API, which closes and exits 0.
    process.kill(again.child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-again.child.pid!, 'SIGKILL'), 60_000);
    const exit = await again.exited;
    clearTimeout(timer);
    expect(again.text.filter((t) => t.startsWith('make'))).toEqual([]);
    expect(exit.code === 0 || (exit.code === null && exit.signal === 'SIGTERM')).toBe(true);
    expect(again.json.at(-1)).toMatchObject({ msg: 'embedded PostgreSQL stopped' });
  });

  it('a bad variable: every problem listed, no \\n escapes in the JSON line', async () => {
    const run = await runApiUntilExit(clone, { PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect((await run.exited).code).toBe(1);
    const fatal = fatalLine(run);
    expect(fatal.problems).toEqual([
      'PORT must be an integer (got "eighty")',
      expect.stringMatching(/^LOG_LEVEL must be one of .* \(got "loud"\)$/),
    ]);
    expect(String(fatal.error)).not.toContain('\n');
    expect(fatal.fix).toContain('.env.example');
  });
});
