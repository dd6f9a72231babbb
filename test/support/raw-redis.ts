import Redis from 'ioredis';
import { redisKeyPrefix, redisUrl } from './test-env';
import { isInProcessRedis } from '../../libs/core/src/embedded/in-process-redis';

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

/**
 * Records the names (lower case) of the Redis commands an app's client sends. ioredis funnels every command
 * through `sendCommand`; the embedded mode's in-process client (ioredis-mock) has no such funnel, so there
 * each command method of the client is wrapped instead.
 */
export function recordRedisCommands(client: Redis): { names(): string[]; restore(): void } {
  const names: string[] = [];
  if (typeof (client as { sendCommand?: unknown }).sendCommand === 'function') {
    const spy = jest.spyOn(client, 'sendCommand');
    return {
      names: () => spy.mock.calls.map(([command]) => command.name.toLowerCase()),
      restore: () => spy.mockRestore(),
    };
  }
  const methods = Object.getOwnPropertyNames(client).filter(
    (name) =>
      /^[a-z]+$/.test(name) &&
      typeof (client as unknown as Record<string, unknown>)[name] === 'function' &&
      Object.getOwnPropertyDescriptor(client, name)?.writable === true,
  );
  const commands = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  const spies = methods.map((name) => {
    const original = commands[name].bind(client);
    return jest.spyOn(commands, name).mockImplementation((...args: unknown[]) => {
      names.push(name);
      return original(...args);
    });
  });
  return { names: () => [...names], restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

/**
 * Every string this test worker's app keeps in Redis, as `key value` lines: read from the real Redis, or, in
 * the embedded mode, from the app's in-process client (its keys are listed prefixed, read unprefixed).
 */
export async function storedRedisStrings(appClient: Redis): Promise<string[]> {
  const prefix = redisKeyPrefix();
  const embedded = isInProcessRedis(appClient);
  const client = embedded ? appClient : rawRedis();
  try {
    const stored: string[] = [];
    for (const key of await client.keys(`${prefix}*`)) {
      const name = embedded ? key.slice(prefix.length) : key;
      if ((await client.type(name)) === 'string') stored.push(`${key} ${await client.get(name)}`);
    }
    return stored;
  } finally {
    if (!embedded) client.disconnect();
  }
}
