import { ApiProperty, type ApiPropertyOptions, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { MAX_IDENTIFIER_LENGTH } from '../resource-server-identifier';
import { HasNoNul, IsOptionalNotNull, IsScopeName, IsUuidString } from '@agentauth/core';

/** Most scopes one resource server accepts (also a CHECK constraint). */
export const MAX_RESOURCE_SERVER_SCOPES = 100;
export const MIN_ACCESS_TOKEN_TTL_SECONDS = 10;
const MAX_TTL_SECONDS = 86_400;

const SCOPES_DOC: ApiPropertyOptions = {
  type: [String],
  minItems: 1,
  maxItems: MAX_RESOURCE_SERVER_SCOPES,
  example: ['files:read', 'files:write'],
  description:
    'Custom scopes registered in the tree (a final `*` segment allowed; built-in management scopes refused) that tokens for this server may carry. A token for it carries concrete names only (wildcards expanded to the registered scopes they cover).',
};
const AGENT_DOC: ApiPropertyOptions = {
  format: 'uuid',
  nullable: true,
  description:
    "An agent of the caller's subtree that the resource server authenticates as: it may introspect (with tokens:introspect) and exchange this server's tokens on behalf of their subject (CONTRACT §4, §8).",
};
const DPOP_DOC: ApiPropertyOptions = {
  type: Boolean,
  description:
    'Every token for this server is DPoP-bound (RFC 9449): a token request naming it without a DPoP proof is refused (400 invalid_dpop_proof). Default false.',
};
const TTL_DOC: ApiPropertyOptions = {
  minimum: MIN_ACCESS_TOKEN_TTL_SECONDS,
  nullable: true,
  description: 'Lifetime of its access tokens, ≤ ACCESS_TOKEN_EXPIRE_MINUTES × 60 (default: that).',
};

/** `POST /resource-servers` (CONTRACT §8). */
export class CreateResourceServerDto {
  @ApiProperty({
    maxLength: MAX_IDENTIFIER_LENGTH,
    example: 'https://files.example.com/mcp',
    description:
      "The RFC 8707 resource indicator and the `aud` of its tokens: an absolute https URI without fragment (http only on loopback outside production), compared as an exact string, unique across the whole server (409 identifier_unavailable), never on the issuer's origin. Cannot be changed.",
  })
  @IsString()
  identifier: string;

  @ApiProperty({ maxLength: 200, example: 'Files MCP server' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @HasNoNul()
  name: string;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @HasNoNul()
  description?: string | null;

  @ApiProperty(SCOPES_DOC)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_RESOURCE_SERVER_SCOPES)
  @IsScopeName({ each: true })
  scopes: string[];

  @ApiPropertyOptional(AGENT_DOC)
  @IsOptional()
  @IsUuidString()
  agent_id?: string | null;

  @ApiPropertyOptional(TTL_DOC)
  @IsOptional()
  @IsInt()
  @Min(MIN_ACCESS_TOKEN_TTL_SECONDS)
  @Max(MAX_TTL_SECONDS)
  access_token_ttl_seconds?: number | null;

  @ApiPropertyOptional(DPOP_DOC)
  @IsOptional()
  @IsBoolean()
  dpop_required?: boolean;
}

/** `PATCH /resource-servers/{id}`: each given field replaces the stored one; `null` clears an optional one. */
export class UpdateResourceServerDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @HasNoNul()
  name?: string;

  @ApiPropertyOptional({ maxLength: 1000, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @HasNoNul()
  description?: string | null;

  @ApiPropertyOptional(SCOPES_DOC)
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_RESOURCE_SERVER_SCOPES)
  @IsScopeName({ each: true })
  scopes?: string[];

  @ApiPropertyOptional(AGENT_DOC)
  @ValidateIf((_o: object, v: unknown) => v !== undefined && v !== null)
  @IsUuidString()
  agent_id?: string | null;

  @ApiPropertyOptional(TTL_DOC)
  @ValidateIf((_o: object, v: unknown) => v !== undefined && v !== null)
  @IsInt()
  @Min(MIN_ACCESS_TOKEN_TTL_SECONDS)
  @Max(MAX_TTL_SECONDS)
  access_token_ttl_seconds?: number | null;

  @ApiPropertyOptional(DPOP_DOC)
  @IsOptionalNotNull()
  @IsBoolean()
  dpop_required?: boolean;
}
