import { ApiProperty } from '@nestjs/swagger';

export class AuditEventCountsDto {
  @ApiProperty({ description: 'Events ever recorded (the chain length)' }) total: number;
  @ApiProperty({ description: 'Events whose occurred_at is within the last 24 hours' }) last_24h: number;
}

/**
 * `GET /stats`. Besides `audit_events`, each context adds its own section (docs/audit.md): `agents`,
 * `credentials`, `tokens`, `refresh_families`, `delegations`, `policies`.
 */
export class StatsDto {
  @ApiProperty({ format: 'date-time' }) generated_at: string;
  @ApiProperty({ type: AuditEventCountsDto }) audit_events: AuditEventCountsDto;
  @ApiProperty({
    required: false,
    example: { total: 3, by_status: { active: 2, suspended: 1 }, by_trust_level: { root: 1, delegated: 2 } },
  })
  agents?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { total: 2, by_status: { active: 1, revoked: 1 } } })
  credentials?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { issued_total: 10, issued_last_24h: 4 } })
  tokens?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { active: 1 } }) refresh_families?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { active: 1 } }) delegations?: Record<string, unknown>;
  @ApiProperty({ required: false, example: { total: 2 } }) policies?: Record<string, unknown>;
}
