import type Redis from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { AppConfig } from '../config/app-config';

/**
 * The embedded mode's Redis: an in-process implementation of the ioredis interface (ioredis-mock: keys with
 * expiry, MULTI, Lua scripts through `eval`/`defineCommand`, pub/sub between `duplicate()`d clients). Every
 * Redis consumer (revocation markers, rate limiter, key-change and invalidation pub/sub, caches) keeps its
 * production code and talks to this client through the same `REDIS` token.
 *
 * Its data is shared by every client of this process and lost when the process exits (the revocation mirror
 * rebuilds itself from PostgreSQL at start-up, as after a Redis flush). It is never shared with another
 * process: the embedded mode is one process (docs/dev-mode.md).
 */
const IN_PROCESS = Symbol.for('agentauth.in-process-redis');

/** True for the embedded mode's in-process client (and its duplicates). */
export function isInProcessRedis(client: unknown): boolean {
  return typeof client === 'object' && client !== null && IN_PROCESS in client;
}

export function createInProcessRedis(config: AppConfig): Redis {
  return adapt(new RedisMock({ keyPrefix: config.redisKeyPrefix }));
}

type ScriptArgs = [numKeys: number, ...keysAndArgs: (string | number)[]];

/**
 * Closes the gaps between ioredis-mock and ioredis that the consumers rely on, for the client and for its
 * duplicates:
 * - `status`: absent in the mock; the consumers read it to fail closed/open when Redis is unreachable. An
 *   in-process store is always reachable: `ready`.
 * - `defineCommand` without `numberOfKeys` (ioredis: the key count is the call's first argument): the mock
 *   passes every argument as KEYS and ARGV; run it as `eval(lua, numKeys, ...)` as ioredis would.
 */
function adapt(client: Redis): Redis {
  Object.defineProperty(client, 'status', { value: 'ready', writable: true, configurable: true });
  Object.defineProperty(client, IN_PROCESS, { value: true });
  // the mock's own methods, captured before they are replaced below
  const duplicate: Redis['duplicate'] = client.duplicate.bind(client);
  Object.defineProperty(client, 'duplicate', {
    value: (...args: Parameters<Redis['duplicate']>) => adapt(duplicate(...args)),
    configurable: true,
  });
  const defineCommand: Redis['defineCommand'] = client.defineCommand.bind(client);
  Object.defineProperty(client, 'defineCommand', {
    value: (name: string, definition: { lua: string; numberOfKeys?: number }) => {
      if (definition.numberOfKeys !== undefined) return defineCommand(name, definition);
      Object.defineProperty(client, name, {
        value: (...args: ScriptArgs) => client.eval(definition.lua, ...args),
        configurable: true,
        writable: true,
      });
    },
    configurable: true,
  });
  return client;
}
