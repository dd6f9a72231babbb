import type { ConnectionOptions } from 'bullmq';
import type { AppConfig } from '@agentauth/core';

/**
 * BullMQ connection options from `REDIS_URL`. No ioredis `keyPrefix` (BullMQ refuses it): queues are
 * isolated by BullMQ's own `prefix` (`bullPrefix`). `maxRetriesPerRequest: null` as BullMQ workers require.
 */
export function bullConnection(config: AppConfig) {
  if (!config.redisUrl) {
    throw new Error(
      'REDIS_URL is not set: BullMQ queues need Redis (in the embedded mode the API runs the jobs in-process and no worker is started)',
    );
  }
  const url = new URL(config.redisUrl);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  } satisfies ConnectionOptions;
}

/**
 * Whether jobs go through BullMQ queues that a worker process consumes: Redis for the queues, and a
 * database the worker process can reach (not the embedded PGlite). Otherwise the API runs them in-process.
 */
export function usesBullQueues(config: AppConfig): boolean {
  return Boolean(config.redisUrl && config.databaseUrl);
}

/** Every queue key lives under the deployment's key prefix: `<REDIS_KEY_PREFIX>bull:<queue>:…`. */
export function bullPrefix(config: AppConfig): string {
  return `${config.redisKeyPrefix}bull`;
}
