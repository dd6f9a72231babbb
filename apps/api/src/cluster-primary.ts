import cluster, { type Worker } from 'node:cluster';
import { type AppConfig, createRootLogger } from '@agentauth/core';

const CRASH_LOOP_WINDOW_MS = 30_000;
const CRASH_LOOP_LIMIT = 5;

/**
 * `API_WORKERS=N`: N API processes share the port (node:cluster, round-robin). Every piece of shared state
 * (revocation, rate limits, key ring changes, caches) lives in PostgreSQL/Redis, so workers are
 * interchangeable. The primary only supervises: a worker that dies unexpectedly is replaced; SIGTERM/SIGINT
 * are passed on and the primary exits when every worker has finished.
 */
export function runClusterPrimary(config: AppConfig): void {
  const logger = createRootLogger(config, 'agentauth-api');
  let stopping = false;
  const recentExits: number[] = [];
  const fork = (): Worker => cluster.fork();
  for (let i = 0; i < config.apiWorkers; i++) fork();
  logger.info({ workers: config.apiWorkers }, 'API cluster primary started');
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    recentExits.push(now);
    while (recentExits.length > 0 && recentExits[0] < now - CRASH_LOOP_WINDOW_MS) recentExits.shift();
    if (recentExits.length > CRASH_LOOP_LIMIT) {
      // Workers that die at start-up (bad config, schema not migrated) would be replaced forever.
      logger.fatal({ exits: recentExits.length }, 'API workers keep exiting; giving up');
      process.exit(1);
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'API worker exited; starting a replacement');
    setTimeout(fork, 500);
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping API workers');
    // SIGTERM whatever the signal: after a Ctrl-C the workers got the SIGINT too and are closing; they
    // ignore a SIGTERM then, while a second SIGINT would end them at once (stopOnSignals).
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
