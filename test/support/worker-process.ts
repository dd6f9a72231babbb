import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job, Queue } from 'bullmq';
import { logCapture } from './log-capture';
import { redisKeyPrefix, runId } from './test-env';
import { eventually } from './webhook-receiver';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER_MAIN = path.join(ROOT, 'dist', 'apps', 'worker', 'src', 'main.js');

/**
 * A Redis key prefix of its own for one test file (queues included): a worker spawned by one file never
 * consumes another file's jobs. Still under this run's prefix, so global teardown removes it.
 */
export function isolatedRedisPrefix(label: string): string {
  return `${redisKeyPrefix()}${label}-${randomBytes(3).toString('hex')}:`;
}

/**
 * Compiles the app once per jest run (incremental `tsc`: ~3 s warm, ~6 s cold), shared by every jest
 * worker that spawns the worker process: the first takes a lock directory, the others wait for its marker.
 */
export async function ensureWorkerBuild(): Promise<void> {
  const base = path.join(os.tmpdir(), `agentauth-worker-build-${runId()}-${ROOT.replace(/\W+/g, '_')}`);
  const lock = `${base}.lock`;
  const done = `${base}.done`;
  const failed = `${base}.failed`;
  let owner = false;
  try {
    fs.mkdirSync(lock);
    owner = true;
  } catch {
    /* another jest worker builds */
  }
  if (owner) {
    try {
      await new Promise<void>((resolve, reject) =>
        execFile(
          'npm',
          ['run', '--silent', 'build'],
          { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout, stderr) =>
            error ? reject(new Error(`npm run build failed:\n${stdout}\n${stderr}`)) : resolve(),
        ),
      );
      fs.writeFileSync(done, '');
    } catch (error) {
      fs.writeFileSync(failed, String(error));
      throw error;
    }
    return;
  }
  const deadline = Date.now() + 120_000;
  while (!fs.existsSync(done)) {
    if (fs.existsSync(failed)) throw new Error(fs.readFileSync(failed, 'utf8'));
    if (Date.now() > deadline) throw new Error('timed out waiting for the worker build');
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `dist/apps/worker/src/main.js` with its output captured line by line. */
export class WorkerProcess {
  /** Parsed stdout lines (each must be a JSON object). */
  readonly lines: Record<string, unknown>[] = [];
  /** stdout lines that were not JSON objects (must stay empty). */
  readonly nonJson: string[] = [];
  /** stderr lines (must stay empty: the worker logs to stdout). */
  readonly stderr: string[] = [];
  readonly exited: Promise<WorkerExit>;
  private exitInfo?: WorkerExit;

  constructor(readonly child: ChildProcess) {
    // 'close', not 'exit': 'exit' can come before the last stdout chunks are read (a loaded machine), and a
    // test asserting on the final lines (e.g. the graceful-stop line) would then miss them.
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) this.onLine(line);
    });
    child.stdout!.on('end', () => {
      if (pending) this.onLine(pending);
      pending = '';
    });
    let pendingErr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      pendingErr += chunk;
      const parts = pendingErr.split('\n');
      pendingErr = parts.pop() ?? '';
      this.stderr.push(...parts.filter(Boolean));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves with the first line matching `predicate` (seen before or after the call). */
  async waitForLine(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs = 30_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (!this.running) {
        throw new Error(
          `worker exited (${JSON.stringify(this.exitInfo)}) before the expected line; stderr: ${this.stderr.join('\n')}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`worker: expected line not seen within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait for the exit. */
  async stop(timeoutMs = 30_000): Promise<WorkerExit> {
    if (!this.running) return this.exitInfo!;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL (no shutdown hooks run) and wait for the exit. */
  async kill(): Promise<WorkerExit> {
    if (!this.running) return this.exitInfo!;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private onLine(line: string): void {
    if (!line) return;
    logCapture.write(line);
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        this.lines.push(parsed as Record<string, unknown>);
        return;
      }
    } catch {
      /* recorded below */
    }
    this.nonJson.push(line);
  }
}

const started: WorkerProcess[] = [];

export interface ScriptRun {
  code: number | null;
  /** stdout, one parsed JSON object per line (the scripts log JSON lines). */
  lines: Record<string, unknown>[];
  stderr: string;
}

/**
 * Runs a compiled operator script (`dist/scripts/<name>.js`, as `make <target>` does) with this jest
 * worker's environment plus `env` (a value `undefined` removes the variable) and waits for its exit.
 */
export async function runScript(name: string, env: Record<string, string | undefined>): Promise<ScriptRun> {
  await ensureWorkerBuild();
  const merged: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete merged[key];
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [path.join(ROOT, 'dist', 'scripts', `${name}.js`)],
      { cwd: ROOT, env: merged },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        try {
          const lines = stdout
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>);
          resolve({ code, lines, stderr });
        } catch (parseError) {
          reject(new Error(`${name}: stdout is not JSON lines (${String(parseError)}):\n${stdout}`));
        }
      },
    ),
  );
}

/**
 * Spawns the compiled worker with this jest worker's environment (database, Redis, secrets) plus
 * `env`, and waits for "AgentAuth worker started".
 */
export async function startWorker(env: Record<string, string>): Promise<WorkerProcess> {
  await ensureWorkerBuild();
  const child = spawn(process.execPath, [WORKER_MAIN], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker = new WorkerProcess(child);
  started.push(worker);
  await worker.waitForLine((l) => l.msg === 'AgentAuth worker started');
  return worker;
}

/** Kills every worker a test file started and did not stop (call in afterAll). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all(started.splice(0).map((w) => w.kill()));
}

/**
 * The job once it has finished in `state` (`completed` by default), read AFTER its state: a job loaded
 * first and finished in between would carry no `returnvalue`/`failedReason` yet. A job that ends in the
 * other final state throws at once.
 */
export async function finishedJob(
  queue: Queue,
  jobId: string,
  state: 'completed' | 'failed' = 'completed',
  timeoutMs = 30_000,
): Promise<Job> {
  return eventually(async () => {
    const current = await queue.getJobState(jobId);
    if (current !== 'completed' && current !== 'failed') return undefined;
    const job = await queue.getJob(jobId);
    if (current !== state) {
      throw new Error(`job ${jobId} ended ${current}${job?.failedReason ? `: ${job.failedReason}` : ''}`);
    }
    return job;
  }, timeoutMs);
}
