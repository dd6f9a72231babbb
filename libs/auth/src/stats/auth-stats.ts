import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService, StatsRegistry } from '@agentauth/audit';
import { Clock } from '@agentauth/core';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';

const DAY_MS = 24 * 3600_000;

/**
 * The auth sections of `GET /stats` (docs/audit.md): `tokens {issued_total, issued_last_24h}`, counted from
 * the audit trail's `token.issued` events (the one record of every issuance), and
 * `refresh_families {active}`.
 */
@Injectable()
export class AuthStats implements OnModuleInit {
  constructor(
    private readonly stats: StatsRegistry,
    private readonly refresh: RefreshTokensService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.stats.register({ name: 'tokens', collect: () => this.tokens() });
    this.stats.register({
      name: 'refresh_families',
      collect: async () => ({ active: await this.refresh.countActiveFamilies() }),
    });
  }

  private async tokens(): Promise<Record<string, number>> {
    const counts = await this.audit.successCounts('token.issued', new Date(this.clock.nowMs() - DAY_MS));
    return { issued_total: counts.total, issued_last_24h: counts.sinceCount };
  }
}
