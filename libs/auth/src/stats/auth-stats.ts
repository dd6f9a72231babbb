import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { StatsRegistry } from '@agentauth/audit';
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
    @InjectDataSource() private readonly dataSource: DataSource,
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
    const rows: { total: string; last_24h: string }[] = await this.dataSource.query(
      `SELECT count(*)::text AS total, count(*) FILTER (WHERE occurred_at >= $1)::text AS last_24h
       FROM audit_events WHERE event_type = 'token.issued' AND outcome = 'success'`,
      [new Date(this.clock.nowMs() - DAY_MS)],
    );
    return { issued_total: Number(rows[0].total), issued_last_24h: Number(rows[0].last_24h) };
  }
}
