import Redis from 'ioredis';
import { redisKeyPrefix, redisUrl } from './test-env';
import { createInProcessRedis } from '../../libs/core/src/embedded/in-process-redis';
import type { AppConfig } from '../../libs/core/src/config/app-config';
import { embeddedTestMode } from './embedded-test-env';

/** A Redis client WITHOUT the key prefix (to see and delete this run's keys as they are stored). */
export function rawRedis(): Redis {
  // ioredis-mock instances of one process share their data: an unprefixed one sees the apps' keys
  if (embeddedTestMode()) return createInProcessRedis({ redisKeyPrefix: '' } as AppConfig);
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

export interface RecordedRedisCommand {
  /** lower case */
  name: string;
  args: unknown[];
}

/**
 * Records the Redis commands an app's client sends. ioredis funnels every command through `sendCommand`;
 * the embedded mode's in-process client (ioredis-mock) has no such funnel, so there each command method of
 * the client is wrapped instead.
 */
export function recordRedisCommands(client: Redis): {
  calls(): RecordedRedisCommand[];
  names(): string[];
  restore(): void;
} {
  const recorded: RecordedRedisCommand[] = [];
  let restore: () => void;
  if (typeof (client as { sendCommand?: unknown }).sendCommand === 'function') {
    const original = client.sendCommand.bind(client);
    const spy = jest.spyOn(client, 'sendCommand').mockImplementation((command, stream) => {
      recorded.push({ name: command.name.toLowerCase(), args: command.args });
      return original(command, stream);
    });
    restore = () => spy.mockRestore();
  } else {
    const commands = client as unknown as Record<string, (...args: unknown[]) => unknown>;
    const spies = Object.getOwnPropertyNames(client)
      .filter(
        (name) =>
          /^[a-z]+$/.test(name) &&
          typeof commands[name] === 'function' &&
          Object.getOwnPropertyDescriptor(client, name)?.writable === true,
      )
      .map((name) => {
        const original = commands[name].bind(client);
        return jest.spyOn(commands, name).mockImplementation((...args: unknown[]) => {
          recorded.push({ name, args });
          return original(...args);
        });
      });
    restore = () => spies.forEach((spy) => spy.mockRestore());
  }
  return {
    calls: () => [...recorded],
    names: () => recorded.map((command) => command.name),
    restore: () => restore(),
  };
}

/** Every string this test worker's apps keep in Redis, as `key value` lines. */
export async function storedRedisStrings(): Promise<string[]> {
  const raw = rawRedis();
  try {
    const stored: string[] = [];
    for (const key of await raw.keys(`${redisKeyPrefix()}*`)) {
      if ((await raw.type(key)) === 'string') stored.push(`${key} ${await raw.get(key)}`);
    }
    return stored;
  } finally {
    raw.disconnect();
  }
}
