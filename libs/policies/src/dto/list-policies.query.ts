import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQuery, IsOptionalNotNull, IsUuidString } from '@agentauth/core';
import { POLICY_EFFECTS, type PolicyEffect } from '../evaluation/policy.types';

/** `GET /policies` filters (plus `limit`/`cursor`). */
export class ListPoliciesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: POLICY_EFFECTS })
  @IsOptionalNotNull()
  @IsIn(POLICY_EFFECTS as PolicyEffect[])
  effect?: PolicyEffect;

  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptionalNotNull()
  @IsIn(['true', 'false'])
  enabled?: 'true' | 'false';

  @ApiPropertyOptional({ format: 'uuid', description: "An agent of the caller's subtree." })
  @IsOptionalNotNull()
  @IsUuidString()
  owner_agent_id?: string;

  @ApiPropertyOptional({ description: 'Policies naming exactly this subject (e.g. `agent:<id>/*`, `*`).' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  subject?: string;
}
