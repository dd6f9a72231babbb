import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { RATE_LIMIT_OVERRIDE_MAX } from '../agent-rules';
import { HasNoNul, IsJsonObject, IsOptionalNotNull, IsScopeName, IsTimestamp } from '@agentauth/core';
import { AGENT_LIMITS, HasNoReservedMetadataKey, IsClientType, IsRedirectUriList } from './agent-fields';
import { MAX_REDIRECT_URIS } from '../redirect-uris';

/**
 * `PATCH /agents/{id}`. Descriptive fields: the agent itself or an ancestor. `allowed_scopes`, `expires_at`,
 * `status`, `rate_limit_per_minute`: a strict ancestor only. `trust_level`, `parent_agent_id`, `root_agent_id`, `depth`, `id` are not
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

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'Replaces the metadata. The key `rate_limit_per_minute` is refused (400): see the field of that name.',
  })
  @IsOptionalNotNull()
  @IsJsonObject()
  @HasNoReservedMetadataKey()
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

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: RATE_LIMIT_OVERRIDE_MAX,
    description:
      "Strict ancestors only. The agent's own rate limit (requests per minute), ≤ its parent's effective limit (else 403 rate_limit_escalation); `null` removes it (the agent inherits its parent's). It also caps every descendant. docs/rate-limiting.md",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(RATE_LIMIT_OVERRIDE_MAX)
  rate_limit_per_minute?: number | null;

  @ApiPropertyOptional({
    type: Boolean,
    description:
      'Strict ancestors only. true: the agent — and, inherited, every descendant — gets tokens only with a DPoP proof (RFC 9449; CONTRACT §10). false removes its own setting (an ancestor’s still applies).',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  require_dpop?: boolean;

  @ApiPropertyOptional({
    enum: ['confidential', 'public'],
    description:
      'Strict ancestors only. OAuth client type (CONTRACT §11). Switching to `public` needs the agent to hold no active credential (409 agent_has_credentials). `public`: the agent holds no credentials (no API keys, no client_credentials) and gets tokens only through the authorization-code flow with PKCE (docs/authorize.md).',
  })
  @IsClientType()
  client_type?: 'confidential' | 'public';

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_REDIRECT_URIS,
    example: ['http://127.0.0.1/callback'],
    description:
      'Strict ancestors only; replaces the list. Redirect URIs of the authorization-code flow: `https` (exact match), `http` only on 127.0.0.1, [::1] or localhost (port ignored when matching, RFC 8252 §7.3), or a private-use scheme containing a dot (`com.example.app:/cb`). Never a fragment, `javascript:`, `data:` or another scheme (400).',
  })
  @IsRedirectUriList()
  redirect_uris?: string[];
}

/** The fields of `UpdateAgentDto` only a strict ancestor may send. */
export const GOVERNED_AGENT_FIELDS = [
  'allowed_scopes',
  'expires_at',
  'status',
  'rate_limit_per_minute',
  'require_dpop',
  'client_type',
  'redirect_uris',
] as const;

/**
 * `PUT /agents/{id}/rate-limit` (operator only): an agent's own rate-limit override. Required; `null`
 * removes it.
 */
export class SetRateLimitDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: RATE_LIMIT_OVERRIDE_MAX,
    description:
      "Requests per minute, or null to remove the override. A root's may exceed RATE_LIMIT_AGENT_PER_MINUTE; any other agent's must not exceed its parent's effective limit (403 rate_limit_escalation).",
  })
  @ValidateIf((dto: SetRateLimitDto) => dto.rate_limit_per_minute !== null)
  @IsInt()
  @Min(1)
  @Max(RATE_LIMIT_OVERRIDE_MAX)
  rate_limit_per_minute: number | null;
}
