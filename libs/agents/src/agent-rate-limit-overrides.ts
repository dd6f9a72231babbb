import { Injectable } from '@nestjs/common';
import type { RateLimitOverrides } from '@agentauth/ratelimit';
import { AgentsService } from './agents.service';

/**
 * Per-agent rate limits (CONTRACT §7 per-agent override) from the agents table: the agent's effective limit,
 * i.e. the lowest `rate_limit_per_minute` set on its chain, else RATE_LIMIT_AGENT_PER_MINUTE (or a root's
 * operator-set value). It comes with the agent's activity read (`getActivity`: one indexed query for the
 * whole chain); the limiter caches answers for 30 s, so this costs one read per agent per 30 s.
 */
@Injectable()
export class AgentRateLimitOverrides implements RateLimitOverrides {
  constructor(private readonly agents: AgentsService) {}

  async agentLimitPerMinute(agentId: string): Promise<number | undefined> {
    return (await this.agents.getActivity(agentId))?.effectiveRateLimitPerMinute;
  }
}
