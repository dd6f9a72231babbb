/**
 * Container healthcheck of the worker (docker-compose.prod.yml): healthy while the worker process in this
 * container keeps its Redis heartbeat key (`worker:heartbeat:<hostname>:<pid>`, refreshed every 10 s,
 * 30 s TTL — apps/worker/src/worker-heartbeat.ts) alive. One GET of one known key: no SCAN of the keyspace.
 * Usage: node dist/scripts/worker-healthcheck.js   (exit 0 healthy, 1 not)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import Redis from 'ioredis';
import { loadConfig, redisOptions } from '../libs/core/src';

const WORKER_ENTRY = 'apps/worker/src/main.js';

/** The pid of the worker process in this container (its command line names the worker entry point). */
function workerPid(): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(WORKER_ENTRY)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

async function main(): Promise<boolean> {
  const pid = workerPid();
  if (pid === undefined) {
    console.error(JSON.stringify({ level: 'error', msg: 'worker healthcheck: no worker process found' }));
    return false;
  }
  const config = loadConfig();
  if (!config.redisUrl) return false;
  const redis = new Redis(config.redisUrl, redisOptions(config, { retryStrategy: () => null }));
  try {
    const beat = await redis.get(`worker:heartbeat:${os.hostname()}:${pid}`);
    if (!beat)
      console.error(JSON.stringify({ level: 'error', msg: 'worker healthcheck: heartbeat missing', pid }));
    return beat !== null;
  } finally {
    redis.disconnect();
  }
}

main().then(
  (healthy) => process.exit(healthy ? 0 : 1),
  (error: unknown) => {
    console.error(
      JSON.stringify({
        level: 'error',
        msg: 'worker healthcheck failed',
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    process.exit(1);
  },
);
