import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsUuidString, PageQuery } from '@agentauth/agents';

/** `GET /credentials`: credentials of the caller's subtree, masked. */
export class ListCredentialsQuery extends PageQuery {
  @ApiPropertyOptional({
    description: "Only this agent's credentials (which must be visible to the caller).",
  })
  @IsOptional()
  @IsUuidString()
  agent_id?: string;

  @ApiPropertyOptional({ enum: ['active', 'revoked'] })
  @IsOptional()
  @IsIn(['active', 'revoked'])
  status?: 'active' | 'revoked';
}
