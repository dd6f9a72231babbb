import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, Max, Min } from 'class-validator';
import { MAX_DELEGATION_DEPTH } from '../delegation.entity';
import { IsOptionalNotNull, IsScopeName, IsTimestamp, IsUuidString } from '@agentauth/core';

/** Most scopes one delegation may carry (also a CHECK constraint). */
export const MAX_DELEGATION_SCOPES = 100;

/** `POST /delegations` (CONTRACT §6). The delegator is the caller (the actor of a delegated token). */
export class CreateDelegationDto {
  @ApiProperty({ format: 'uuid', description: 'An active agent of the same tree (not the delegator).' })
  @IsUuidString()
  delegate_agent_id: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_DELEGATION_SCOPES,
    example: ['agents:read'],
    description:
      "Registered for the tree (else 400 unknown_scope), ⊆ the delegator's allowed_scopes (or the parent delegation's effective scopes when re-delegating) and ⊆ the calling token's scopes.",
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DELEGATION_SCOPES)
  @IsScopeName({ each: true })
  scopes: string[];

  @ApiProperty({
    format: 'date-time',
    description:
      "≥ 1 s in the future, ≤ now + MAX_DELEGATION_LIFETIME_SECONDS, ≤ the parent delegation's expires_at and every involved agent's expiry.",
  })
  @IsTimestamp()
  expires_at: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'Re-delegate this delegation (the caller must be its delegate). A delegated token may only re-delegate its own delegation_id, and must.',
  })
  @IsOptionalNotNull()
  @IsUuidString()
  parent_delegation_id?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_DELEGATION_DEPTH,
    description:
      "Deepest depth any re-delegation below this one may reach (a first hop has depth 1; max_depth 1 = no re-delegation). ≥ this delegation's depth, ≤ the parent's max_depth. Default: the parent's (none for a first hop).",
  })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(MAX_DELEGATION_DEPTH)
  max_depth?: number;
}
