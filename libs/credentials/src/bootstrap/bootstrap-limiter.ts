import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig, Clock, REDIS, TooManyRequestsProblem } from '@agentauth/core';

const WINDOW_MS = 3600_000;

/**
 * `BOOTSTRAP_RATE_LIMIT_PER_HOUR` per client IP: a fixed one-hour window counter in Redis (INCR + PEXPIRE in
 * one MULTI). Deliberately one method: the rate-limit issue replaces it with its sliding window.
 */
@Injectable()
export class BootstrapLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Counts one attempt from `ip`; throws 429 (with Retry-After) past the limit. */
  async consume(ip: string): Promise<void> {
    const now = this.clock.nowMs();
    const window = Math.floor(now / WINDOW_MS);
    const key = `ratelimit:bootstrap:${window}:${ip}`;
    const results = await this.redis.multi().incr(key).pexpire(key, WINDOW_MS).exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    const limit = this.config.bootstrapRateLimitPerHour;
    if (count > limit) {
      const retryAfter = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));
      throw new TooManyRequestsProblem('Too many bootstrap attempts from this address', {
        'Retry-After': String(retryAfter),
        'RateLimit-Limit': String(limit),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': String(retryAfter),
      });
    }
  }
}
