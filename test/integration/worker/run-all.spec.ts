import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../support/api-process';
import { isAlive } from '../../support/test-env';
import { eventually } from '../../support/webhook-receiver';
import {
  ensureWorkerBuild,
  isolatedRedisPrefix,
  type WorkerExit,
  WorkerProcess,
} from '../../support/worker-process';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The direct children of `pid` and their command lines (Linux /proc). */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  return fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .split(/\s+/)
    .filter(Boolean)
    .map((id) => ({
      pid: Number(id),
      cmdline: fs.readFileSync(`/proc/${id}/cmdline`, 'utf8').replace(/\0/g, ' '),
    }));
}

interface RunAll {
  script: WorkerProcess;
  groupId: number;
  api: number;
  worker: number;
}

/**
 * `scripts/run-all.sh` (what `make run` ends with) with DATABASE_URL and REDIS_URL set: the worker and the
 * API side by side, in a process group of their own, as a terminal would run them.
 */
describe('scripts/run-all.sh (API + worker)', () => {
  const started: RunAll[] = [];

  afterEach(() => {
    for (const run of started.splice(0)) {
      for (const pid of [run.api, run.worker]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      if (run.script.running) run.script.child.kill('SIGKILL');
    }
  });

  async function startRunAll(): Promise<RunAll> {
    await ensureWorkerBuild();
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const child = spawn('bash', ['scripts/run-all.sh'], {
      cwd: ROOT,
      detached: true,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_BASE_URL: baseUrl,
        API_WORKERS: '1',
        LOG_LEVEL: 'info',
        REDIS_KEY_PREFIX: isolatedRedisPrefix('run-all'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const script = new WorkerProcess(child);
    await script.waitForLine((l) => l.msg === 'AgentAuth worker started', 60_000);
    await eventually(
      () =>
        fetch(`${baseUrl}/ready`)
          .then((res) => res.status === 200)
          .catch(() => false),
      60_000,
    );
    const children = childrenOf(child.pid!);
    const pidOf = (entry: string) => children.find((c) => c.cmdline.includes(entry))!.pid;
    const run = {
      script,
      groupId: child.pid!,
      api: pidOf('dist/apps/api/src/main.js'),
      worker: pidOf('dist/apps/worker/src/main.js'),
    };
    started.push(run);
    return run;
  }

  async function exitOf(run: RunAll): Promise<WorkerExit> {
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      run.script.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('run-all.sh did not exit within 30 s')), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(isAlive(run.api)).toBe(false);
    expect(isAlive(run.worker)).toBe(false);
    return exit;
  }

  it.each(['worker', 'api'] as const)(
    'stops the other process and exits non-zero when the %s dies',
    async (victim) => {
      const run = await startRunAll();
      process.kill(run[victim], 'SIGKILL');
      expect(await exitOf(run)).toEqual({ code: 137, signal: null });
      expect(run.script.stderr).toContain(
        `run-all: the ${victim} exited (status 137); stopping the other process`,
      );
      if (victim === 'api') {
        // the surviving worker was stopped gracefully, not killed
        expect(run.script.lines).toContainEqual(
          expect.objectContaining({ msg: 'all queue workers stopped' }),
        );
      }
    },
  );

  // A stop that was asked for and went cleanly is a success (exit 0): `make run` then prints no
  // "make: *** [run] Error 130" / "Terminated" line.
  it('stops both gracefully on Ctrl-C (SIGINT to the whole process group) and exits 0', async () => {
    const run = await startRunAll();
    process.kill(-run.groupId, 'SIGINT');
    expect(await exitOf(run)).toEqual({ code: 0, signal: null });
    expect(run.script.lines).toContainEqual(expect.objectContaining({ msg: 'all queue workers stopped' }));
    expect(run.script.stderr).toEqual([]);
  });

  it('stops both gracefully on SIGTERM to the script alone (make passing a stop on) and exits 0', async () => {
    const run = await startRunAll();
    process.kill(run.script.pid, 'SIGTERM');
    expect(await exitOf(run)).toEqual({ code: 0, signal: null });
    expect(run.script.lines).toContainEqual(expect.objectContaining({ msg: 'all queue workers stopped' }));
    expect(run.script.stderr).toEqual([]);
  });
});
