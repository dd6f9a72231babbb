import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { DELEGATION_STATUSES, type DelegationStatus } from '../delegation.entity';
import { IsUuidString, PageQuery } from '@agentauth/core';

/**
 * `GET /delegations`: the delegations the caller may see (it governs their delegate or a delegator of their
 * chain), filtered. Id filters only narrow that set: an unknown or foreign id gives an empty page.
 */
export class ListDelegationsQuery extends PageQuery {
  @ApiPropertyOptional({
    enum: DELEGATION_STATUSES,
    description: 'Stored status; an active delegation past its expires_at is expired all the same.',
  })
  @IsOptional()
  @IsIn(DELEGATION_STATUSES)
  status?: DelegationStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUuidString()
  delegator_agent_id?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUuidString()
  delegate_agent_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The first delegator of the chain.' })
  @IsOptional()
  @IsUuidString()
  original_delegator_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Direct re-delegations of this delegation.' })
  @IsOptional()
  @IsUuidString()
  parent_delegation_id?: string;
}
