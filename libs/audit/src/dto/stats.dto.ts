import { ApiProperty } from '@nestjs/swagger';

export class AuditEventCountsDto {
  @ApiProperty({ description: 'Events ever recorded (the chain length)' }) total: number;
  @ApiProperty({ description: 'Events whose occurred_at is within the last 24 hours' }) last_24h: number;
}

export class AgentStatusCountsDto {
  @ApiProperty() active: number;
  @ApiProperty() suspended: number;
  @ApiProperty() deactivated: number;
}

export class AgentTrustLevelCountsDto {
  @ApiProperty() root: number;
  @ApiProperty() delegated: number;
  @ApiProperty() ephemeral: number;
}

/** Contributed by libs/agents (`AgentsStats`). */
export class AgentCountsDto {
  @ApiProperty({ description: 'Every agent, deactivated ones included' }) total: number;
  @ApiProperty({
    type: AgentStatusCountsDto,
    description: "By the agent's own stored status (an agent under a suspended ancestor counts as active)",
  })
  by_status: AgentStatusCountsDto;
  @ApiProperty({ type: AgentTrustLevelCountsDto }) by_trust_level: AgentTrustLevelCountsDto;
}

export class CredentialStatusCountsDto {
  @ApiProperty({ description: 'Not revoked, not expired, not replaced by a rotation' }) active: number;
  @ApiProperty({
    description: 'Replaced by a rotation (in its grace period or past it), not revoked or expired',
  })
  rotated: number;
  @ApiProperty() revoked: number;
  @ApiProperty({ description: 'Not revoked, expires_at has passed' }) expired: number;
}

/** Contributed by libs/credentials (`CredentialsStats`). */
export class CredentialCountsDto {
  @ApiProperty({ description: 'Every credential ever issued' }) total: number;
  @ApiProperty({
    type: CredentialStatusCountsDto,
    description: 'Each credential in exactly one: revoked, else expired, else rotated, else active',
  })
  by_status: CredentialStatusCountsDto;
}

/**
 * `GET /stats`. Besides `audit_events`, each context adds its own section (docs/audit.md): `agents`,
 * `credentials`, `tokens`, `refresh_families`, `delegations`, `policies`.
 */
export class StatsDto {
  @ApiProperty({ format: 'date-time' }) generated_at: string;
  @ApiProperty({ type: AuditEventCountsDto }) audit_events: AuditEventCountsDto;
  @ApiProperty({ type: AgentCountsDto }) agents: AgentCountsDto;
  @ApiProperty({ type: CredentialCountsDto }) credentials: CredentialCountsDto;
  @ApiProperty({ required: false, example: { issued_total: 10, issued_last_24h: 4 } })
  tokens?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { active: 1 } }) refresh_families?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { active: 1 } }) delegations?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { total: 2 } }) policies?: Record<string, unknown>;
}
