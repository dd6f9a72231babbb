import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { HasNoNul, IsJsonObject, IsOptionalNotNull, IsScopeName, IsTimestamp } from '../http/validators';
import { AGENT_LIMITS } from './agent-fields';

/**
 * `PATCH /agents/{id}`. Descriptive fields: the agent itself or an ancestor. `allowed_scopes`, `expires_at`,
 * `status`: a strict ancestor only. `trust_level`, `parent_agent_id`, `root_agent_id`, `depth`, `id` are not
 * fields of this DTO, so the validation pipe refuses them (400).
 */
export class UpdateAgentDto {
  @ApiPropertyOptional({ maxLength: AGENT_LIMITS.name })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(AGENT_LIMITS.name)
  @HasNoNul()
  name?: string;

  @ApiPropertyOptional({ maxLength: AGENT_LIMITS.description, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(AGENT_LIMITS.description)
  @HasNoNul()
  description?: string | null;

  @ApiPropertyOptional({ maxLength: AGENT_LIMITS.version, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(AGENT_LIMITS.version)
  @HasNoNul()
  version?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: AGENT_LIMITS.capabilities })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(AGENT_LIMITS.capabilities)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(AGENT_LIMITS.capability, { each: true })
  @HasNoNul({ each: true })
  capabilities?: string[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptionalNotNull()
  @IsJsonObject()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: [String],
    description: 'Strict ancestors only. Narrowing narrows every descendant to match.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(AGENT_LIMITS.scopes)
  @IsScopeName({ each: true })
  allowed_scopes?: string[];

  @ApiPropertyOptional({
    format: 'date-time',
    nullable: true,
    description: 'Strict ancestors only; `null` removes the expiry (not for ephemeral agents).',
  })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string | null;

  @ApiPropertyOptional({ enum: ['active', 'suspended'], description: 'Strict ancestors only.' })
  @IsOptionalNotNull()
  @IsIn(['active', 'suspended'])
  status?: 'active' | 'suspended';
}

/** The fields of `UpdateAgentDto` only a strict ancestor may send. */
export const GOVERNED_AGENT_FIELDS = ['allowed_scopes', 'expires_at', 'status'] as const;
