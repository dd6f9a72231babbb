import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Query of `GET /audit/verify`: the whole chain, or a range of it. */
export class VerifyAuditChainQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    description: 'First seq to verify (default 1); it must link to the event before it',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  from_seq?: number;

  @ApiPropertyOptional({ minimum: 1, description: 'Last seq to verify (default: the end of the chain)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_SEQ)
  to_seq?: number;
}

export class BrokenAuditEventDto {
  @ApiProperty() seq: number;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    enum: ['seq_gap', 'prev_hash_mismatch', 'hash_mismatch'],
    description:
      'seq_gap: an event is missing before it; prev_hash_mismatch: it does not link to the one before; hash_mismatch: its content changed',
  })
  reason: string;
}

export class AuditVerificationDto {
  @ApiProperty({ description: 'Every checked event links to the one before it and hashes to its hash' })
  verified: boolean;
  @ApiProperty({ description: 'Events examined (when broken: up to and including the first broken one)' })
  events_checked: number;
  @ApiPropertyOptional({ type: BrokenAuditEventDto, description: 'Absent when verified' })
  first_broken_event?: BrokenAuditEventDto;
  @ApiProperty({ description: 'The last event verified as valid (0 when none)' })
  last_verified_seq: number;
  @ApiProperty({ description: 'Its hash: keep the pair where the database owner cannot write' })
  last_verified_hash: string;
}
