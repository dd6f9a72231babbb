import Redis from 'ioredis';
import { redisKeyPrefix, redisUrl } from './test-env';

/** A Redis client WITHOUT the key prefix (to see and delete this run's keys as they are stored). */
export function rawRedis(): Redis {
  return new Redis(redisUrl(), { maxRetriesPerRequest: 1, lazyConnect: false });
}

/**
 * Simulates a FLUSH for this test worker only: deletes every key under its prefix. Never FLUSHALL/FLUSHDB —
 * other test runs share this Redis.
 */
export async function deleteWorkerKeys(
  client: Redis,
  options: { prefix?: string; except?: string[] } = {},
): Promise<number> {
  const prefix = options.prefix ?? redisKeyPrefix();
  const keep = new Set(options.except ?? []);
  const keys = (await client.keys(`${prefix}*`)).filter((key) => !keep.has(key));
  if (keys.length === 0) return 0;
  return client.del(...keys);
}
