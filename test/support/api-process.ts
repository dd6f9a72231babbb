import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureWorkerBuild, WorkerProcess } from './worker-process';

const ROOT = path.resolve(__dirname, '..', '..');
const API_MAIN = path.join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');

/** A free TCP port on 127.0.0.1 (asked from the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A temporary directory removed by the caller (`fs.rmSync(dir, { recursive: true, force: true })`). */
export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `agentauth-${label}-`));
}

export interface EmbeddedApi {
  process: WorkerProcess;
  baseUrl: string;
}

/**
 * Starts the COMPILED API (`dist/apps/api/src/main.js`, built once per run) in the embedded mode: DATABASE_URL,
 * MIGRATIONS_DATABASE_URL and REDIS_URL removed from its environment, its working directory `cwd` (so no
 * `.env` of the repository applies), data in `dataDir`. Resolves once `/ready` answers 200.
 */
export async function startEmbeddedApi(options: {
  cwd: string;
  dataDir: string;
  port: number;
  env?: Record<string, string>;
}): Promise<EmbeddedApi> {
  await ensureWorkerBuild();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'MIGRATIONS_DATABASE_URL', 'REDIS_URL', 'AGENTAUTH_EMBEDDED_MEMORY']) {
    delete env[name];
  }
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const child = spawn(process.execPath, [API_MAIN], {
    cwd: options.cwd,
    env: {
      ...env,
      ENVIRONMENT: 'development',
      PORT: String(options.port),
      HOST: '127.0.0.1',
      PUBLIC_BASE_URL: baseUrl,
      AGENTAUTH_EMBEDDED_DATA_DIR: options.dataDir,
      API_WORKERS: '1',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const api = new WorkerProcess(child);
  await waitForReady(baseUrl, api, 'the embedded API');
  return { process: api, baseUrl };
}

/**
 * Polls `<baseUrl>/ready` until it answers 200. Fails with the process's last output when the process
 * (`running` the API) exits first, and kills it when it is not ready within 90 s.
 */
export async function waitForReady(baseUrl: string, running: WorkerProcess, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (!running.running) {
      throw new Error(
        `${what} exited before /ready: ${running.stderr.join('\n')}\n${JSON.stringify(running.lines.slice(-5))}`,
      );
    }
    const ready = await fetch(`${baseUrl}/ready`)
      .then((res) => res.status === 200)
      .catch(() => false);
    if (ready) return;
    if (Date.now() > deadline) {
      await running.kill();
      throw new Error(`${what} did not become ready within 90 s`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
