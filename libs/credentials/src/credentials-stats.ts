import { Injectable, type OnModuleInit } from '@nestjs/common';
import { StatsRegistry } from '@agentauth/audit';
import { Clock } from '@agentauth/core';
import { CREDENTIAL_STATS_STATUSES, type CredentialStatsStatus } from './credential-rules';
import { CredentialsRepository } from './credentials.repository';

/** The `credentials` section of `GET /stats`: every status is present (0 when none). */
export type CredentialCounts = {
  total: number;
  by_status: Record<CredentialStatsStatus, number>;
};

/**
 * The credentials context's counts for `GET /stats` (CONTRACT §5, docs/audit.md): credentials by
 * `CredentialStatsStatus` at the clock's now, from one GROUP BY.
 */
@Injectable()
export class CredentialsStats implements OnModuleInit {
  constructor(
    private readonly stats: StatsRegistry,
    private readonly credentials: CredentialsRepository,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.stats.register({ name: 'credentials', collect: () => this.counts() });
  }

  async counts(): Promise<CredentialCounts> {
    const by_status = Object.fromEntries(CREDENTIAL_STATS_STATUSES.map((s) => [s, 0])) as Record<
      CredentialStatsStatus,
      number
    >;
    let total = 0;
    for (const { status, count } of await this.credentials.countByStatsStatus(this.clock.now())) {
      by_status[status] += count;
      total += count;
    }
    return { total, by_status };
  }
}
