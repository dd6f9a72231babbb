import { Injectable } from '@nestjs/common';

/**
 * Where a per-agent limit comes from. The agents module provides the real one (the agent's effective
 * `rate_limit_per_minute`, a governed column) through `RateLimitModule.forRoot({ overrides, imports })`;
 * `undefined` means "use RATE_LIMIT_AGENT_PER_MINUTE". The limiter caches answers (OVERRIDE_CACHE_TTL_MS), so
 * an implementation may read the database.
 */
export interface RateLimitOverrides {
  agentLimitPerMinute(agentId: string): Promise<number | undefined>;
}

/** DI token of the RateLimitOverrides in use. */
export const RATE_LIMIT_OVERRIDES = Symbol('RATE_LIMIT_OVERRIDES');

/** The default: no agent has an override. */
@Injectable()
export class NoRateLimitOverrides implements RateLimitOverrides {
  async agentLimitPerMinute(): Promise<number | undefined> {
    return undefined;
  }
}

/** How long a looked-up override is trusted before it is asked again. */
export const OVERRIDE_CACHE_TTL_MS = 30_000;
/** Bound on cached overrides (oldest evicted first). */
export const OVERRIDE_CACHE_MAX = 10_000;

/** An override is used only when it is a positive integer (bad metadata falls back to the default). */
export function validOverride(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10_000_000
    ? value
    : undefined;
}
