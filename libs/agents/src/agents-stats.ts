import { Injectable, type OnModuleInit } from '@nestjs/common';
import { StatsRegistry } from '@agentauth/audit';
import { AGENT_STATUSES, type AgentStatus, TRUST_LEVELS, type TrustLevel } from './agent.entity';
import { AgentsRepository } from './agents.repository';

/** The `agents` section of `GET /stats`: every status and every trust level is present (0 when none). */
export type AgentCounts = {
  total: number;
  by_status: Record<AgentStatus, number>;
  by_trust_level: Record<TrustLevel, number>;
};

const zeroes = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/**
 * The agents context's counts for `GET /stats` (CONTRACT §5, docs/audit.md): agents by their stored
 * `status` and by `trust_level`, from one GROUP BY over both.
 */
@Injectable()
export class AgentsStats implements OnModuleInit {
  constructor(
    private readonly stats: StatsRegistry,
    private readonly agents: AgentsRepository,
  ) {}

  onModuleInit(): void {
    this.stats.register({ name: 'agents', collect: () => this.counts() });
  }

  async counts(): Promise<AgentCounts> {
    const counts: AgentCounts = {
      total: 0,
      by_status: zeroes(AGENT_STATUSES),
      by_trust_level: zeroes(TRUST_LEVELS),
    };
    for (const { status, trustLevel, count } of await this.agents.countByStatusAndTrustLevel()) {
      counts.total += count;
      counts.by_status[status] += count;
      counts.by_trust_level[trustLevel] += count;
    }
    return counts;
  }
}
