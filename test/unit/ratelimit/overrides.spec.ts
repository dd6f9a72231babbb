import type Redis from 'ioredis';
import type { PinoLogger } from 'nestjs-pino';
import type { AuditService } from '@agentauth/audit';
import { type AppConfig, Clock } from '@agentauth/core';
import { OVERRIDE_CACHE_TTL_MS, RateLimiterService, type RateLimitOverrides } from '@agentauth/ratelimit';

function limiterWith(overrides: RateLimitOverrides, clock: Clock): RateLimiterService {
  const redis = { status: 'ready', defineCommand: () => undefined, on: () => undefined } as unknown as Redis;
  const logger = { setContext: () => undefined, warn: () => undefined } as unknown as PinoLogger;
  const config = { rateLimitAgentPerMinute: 600 } as AppConfig;
  return new RateLimiterService(redis, config, overrides, clock, {} as AuditService, logger);
}

describe('per-agent limit overrides', () => {
  it('uses a valid override, else the default; caches answers for OVERRIDE_CACHE_TTL_MS', async () => {
    const asked: string[] = [];
    const values: Record<string, unknown> = { a: 50, b: 0, c: 2.5, d: '100' };
    const clock = new Clock();
    const limiter = limiterWith(
      {
        agentLimitPerMinute: async (id) => {
          asked.push(id);
          return values[id] as number | undefined;
        },
      },
      clock,
    );
    expect(await limiter.agentLimit('a')).toBe(50);
    expect(await limiter.agentLimit('b')).toBe(600); // not a positive integer
    expect(await limiter.agentLimit('c')).toBe(600);
    expect(await limiter.agentLimit('d')).toBe(600);
    expect(await limiter.agentLimit('e')).toBe(600);
    expect(await limiter.agentLimit('a')).toBe(50);
    expect(asked).toEqual(['a', 'b', 'c', 'd', 'e']);
    values.a = 70;
    clock.advance(OVERRIDE_CACHE_TTL_MS);
    expect(await limiter.agentLimit('a')).toBe(70);
    expect(asked).toEqual(['a', 'b', 'c', 'd', 'e', 'a']);
  });

  it('falls back to the default when the lookup fails, and asks again next time', async () => {
    let calls = 0;
    const limiter = limiterWith(
      {
        agentLimitPerMinute: async () => {
          calls++;
          if (calls === 1) throw new Error('database down');
          return 9;
        },
      },
      new Clock(),
    );
    expect(await limiter.agentLimit('x')).toBe(600);
    expect(await limiter.agentLimit('x')).toBe(9);
  });
});
