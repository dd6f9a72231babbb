import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import type { AuditOutcome } from '../audit-event';
import { EVENT_TYPE_PATTERN } from '../audit-sanitizer';

/** Query of `GET /audit/events`. Unknown parameters are refused (400) by the global validation pipe. */
export class ListAuditEventsQueryDto {
  @ApiPropertyOptional({ example: 'credential.rotated', description: 'Exact event type' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(EVENT_TYPE_PATTERN, { message: 'event_type must look like <context>.<verb>' })
  event_type?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Events where this agent is the actor, on_behalf_of or the target',
  })
  @IsOptional()
  @IsUUID()
  agent_id?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  root_agent_id?: string;

  @ApiPropertyOptional({ enum: ['success', 'failure', 'denied'] })
  @IsOptional()
  @IsIn(['success', 'failure', 'denied'])
  outcome?: AuditOutcome;

  @ApiPropertyOptional({ description: 'Events of one request (its X-Request-ID)' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:@-]{1,128}$/, { message: 'request_id is not a valid request id' })
  request_id?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'occurred_at ≥ since (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'occurred_at < until (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  until?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque: next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}
