import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsUuidString, PageQuery } from '@agentauth/core';
import { AGENT_STATUSES, type AgentStatus, TRUST_LEVELS, type TrustLevel } from '../agent.entity';

/** `GET /agents`: the caller's subtree (itself included), filtered. */
export class ListAgentsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: AGENT_STATUSES })
  @IsOptional()
  @IsIn(AGENT_STATUSES)
  status?: AgentStatus;

  @ApiPropertyOptional({ enum: TRUST_LEVELS })
  @IsOptional()
  @IsIn(TRUST_LEVELS)
  trust_level?: TrustLevel;

  @ApiPropertyOptional({
    description: 'Direct children of this agent (which must be visible to the caller).',
  })
  @IsOptional()
  @IsUuidString()
  parent_agent_id?: string;
}
