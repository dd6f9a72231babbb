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
} from 'class-validator';
import { RATE_LIMIT_OVERRIDE_MAX } from '../agent-rules';
import {
  HasNoNul,
  IsJsonObject,
  IsOptionalNotNull,
  IsScopeName,
  IsTimestamp,
  IsUuidString,
  MAX_METADATA_BYTES,
} from '@agentauth/core';
import { AGENT_LIMITS, HasNoReservedMetadataKey, IsClientType, IsRedirectUriList } from './agent-fields';
import { MAX_REDIRECT_URIS } from '../redirect-uris';

/** The descriptive fields an agent may edit on itself. */
export class AgentDescriptionDto {
  @ApiProperty({ maxLength: AGENT_LIMITS.name, example: 'orchestrator' })
  @IsString()
  @MinLength(1)
  @MaxLength(AGENT_LIMITS.name)
  @HasNoNul()
  name: string;

  @ApiPropertyOptional({ maxLength: AGENT_LIMITS.description, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(AGENT_LIMITS.description)
  @HasNoNul()
  description?: string | null;

  @ApiPropertyOptional({ maxLength: AGENT_LIMITS.version, nullable: true, example: '1.4.0' })
  @IsOptional()
  @IsString()
  @MaxLength(AGENT_LIMITS.version)
  @HasNoNul()
  version?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: AGENT_LIMITS.capabilities, example: ['web.search'] })
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
    description: `≤ ${MAX_METADATA_BYTES} bytes. Free-form, except the key \`rate_limit_per_minute\` (400): the rate-limit override is the governed field of that name.`,
  })
  @IsOptionalNotNull()
  @IsJsonObject()
  @HasNoReservedMetadataKey()
  metadata?: Record<string, unknown>;
}

/** `POST /agents` (CONTRACT §2). `root` can never be asked for here. */
export class CreateAgentDto extends AgentDescriptionDto {
  @ApiPropertyOptional({ description: "An agent of the caller's subtree; default: the caller." })
  @IsOptionalNotNull()
  @IsUuidString()
  parent_agent_id?: string;

  @ApiPropertyOptional({
    enum: ['delegated', 'ephemeral'],
    description: 'Default `delegated`; `ephemeral` (and only that) under an ephemeral parent.',
  })
  @IsOptionalNotNull()
  @IsIn(['delegated', 'ephemeral'])
  trust_level?: 'delegated' | 'ephemeral';

  @ApiPropertyOptional({
    type: [String],
    maxItems: AGENT_LIMITS.scopes,
    description: "⊆ the parent's allowed_scopes and ⊆ the calling token's scopes. Default: none.",
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(AGENT_LIMITS.scopes)
  @IsScopeName({ each: true })
  allowed_scopes?: string[];

  @ApiPropertyOptional({
    format: 'date-time',
    nullable: true,
    description: "Required for ephemeral agents; never later than the parent's.",
  })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 1,
    maximum: RATE_LIMIT_OVERRIDE_MAX,
    description:
      "The child's own rate limit (requests per minute); ≤ the parent's effective limit (else 403 rate_limit_escalation). Default: none (it inherits the parent's). docs/rate-limiting.md",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(RATE_LIMIT_OVERRIDE_MAX)
  rate_limit_per_minute?: number | null;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description:
      'The child (and, inherited, its descendants) gets tokens only with a DPoP proof (RFC 9449; CONTRACT §10). A child of an agent that requires DPoP requires it whatever this says.',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  require_dpop?: boolean;

  @ApiPropertyOptional({
    enum: ['confidential', 'public'],
    default: 'confidential',
    description:
      'OAuth client type (CONTRACT §11). `public`: the agent holds no credentials (no API keys, no client_credentials) and gets tokens only through the authorization-code flow with PKCE (docs/authorize.md).',
  })
  @IsClientType()
  client_type?: 'confidential' | 'public';

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_REDIRECT_URIS,
    example: ['http://127.0.0.1/callback'],
    description:
      'Redirect URIs of the authorization-code flow: `https` (exact match), `http` only on 127.0.0.1, [::1] or localhost (port ignored when matching, RFC 8252 §7.3), or a private-use scheme containing a dot (`com.example.app:/cb`). Never a fragment, `javascript:`, `data:` or another scheme (400).',
  })
  @IsRedirectUriList()
  redirect_uris?: string[];
}

/** `POST /agents/bootstrap`: a new root agent. */
export class BootstrapAgentDto extends AgentDescriptionDto {
  @ApiPropertyOptional({
    type: [String],
    maxItems: AGENT_LIMITS.scopes,
    description: 'A subset of the built-in scopes; default: all of them.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(AGENT_LIMITS.scopes)
  @IsScopeName({ each: true })
  allowed_scopes?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'A public JWK (RSA ≥ 2048, EC P-256, OKP Ed25519): the root’s first credential is this public key instead of an API key (a secretless root that authenticates with private_key_jwt). See POST /credentials.',
  })
  @IsOptionalNotNull()
  @IsJsonObject(4096)
  jwk?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description:
      'The root and every agent of its tree get tokens only with a DPoP proof (RFC 9449; CONTRACT §10).',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  require_dpop?: boolean;
}
