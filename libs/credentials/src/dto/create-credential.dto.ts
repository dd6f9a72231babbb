import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { HasNoNul, IsOptionalNotNull, IsScopeName, IsTimestamp, IsUuidString } from '@agentauth/agents';

export const CREDENTIAL_LIMITS = { name: 200, scopes: 100 } as const;

/** `POST /credentials` (CONTRACT §3). */
export class CreateCredentialDto {
  @ApiPropertyOptional({ description: "An agent of the caller's subtree; default: the caller." })
  @IsOptionalNotNull()
  @IsUuidString()
  agent_id?: string;

  @ApiPropertyOptional({ maxLength: CREDENTIAL_LIMITS.name, nullable: true })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(CREDENTIAL_LIMITS.name)
  @HasNoNul()
  name?: string | null;

  @ApiPropertyOptional({
    type: [String],
    maxItems: CREDENTIAL_LIMITS.scopes,
    description:
      "⊆ the agent's allowed_scopes and ⊆ the calling token's scopes. Default: the agent's allowed_scopes that the calling token holds.",
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(CREDENTIAL_LIMITS.scopes)
  @IsScopeName({ each: true })
  scopes?: string[];

  @ApiPropertyOptional({
    format: 'date-time',
    nullable: true,
    description: "Default: the agent's own expiry (if any); never later than it.",
  })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string | null;
}
