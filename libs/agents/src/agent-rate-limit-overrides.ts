import { Injectable } from '@nestjs/common';
import type { RateLimitOverrides } from '@agentauth/ratelimit';
import { AgentsService } from './agents.service';

/** Metadata key an ancestor sets to give an agent its own per-minute limit (CONTRACT §7 per-agent override). */
export const RATE_LIMIT_METADATA_KEY = 'rate_limit_per_minute';

/**
 * Per-agent rate-limit overrides from the agent's `metadata.rate_limit_per_minute` (a positive integer).
 * The limiter caches answers for 30 s, so this costs one indexed read per agent per 30 s.
 */
@Injectable()
export class AgentRateLimitOverrides implements RateLimitOverrides {
  constructor(private readonly agents: AgentsService) {}

  async agentLimitPerMinute(agentId: string): Promise<number | undefined> {
    const activity = await this.agents.getActivity(agentId);
    const value = activity?.agent.metadata?.[RATE_LIMIT_METADATA_KEY];
    return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
  }
}
