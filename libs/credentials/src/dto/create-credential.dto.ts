import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { CREDENTIAL_TYPES, type CredentialType } from '../credential.entity';
import {
  HasNoNul,
  IsJsonObject,
  IsOptionalNotNull,
  IsScopeName,
  IsTimestamp,
  IsUuidString,
} from '@agentauth/core';

/** Largest JWK accepted (an 8192-bit RSA key is ~1.4 kB). */
export const MAX_JWK_BYTES = 4096;

export const JWK_DESCRIPTION =
  'A public JWK (RFC 7517): RSA ≥ 2048 bits (alg RS256 or PS256), EC P-256 (ES256) or OKP Ed25519 (EdDSA). Private members (d, p, q, dp, dq, qi, oth, k) are refused. Its kid (default: the RFC 7638 thumbprint) selects it in a client assertion header; alg (default by key type) is the only algorithm its assertions may use.';

export const CREDENTIAL_LIMITS = { name: 200, scopes: 100 } as const;

/** `POST /credentials` (CONTRACT §3, §9). */
export class CreateCredentialDto {
  @ApiPropertyOptional({
    enum: CREDENTIAL_TYPES,
    default: 'api_key',
    description:
      '`api_key` (a secret, returned once) or `public_key` (private_key_jwt: the agent signs client assertions with the private key of `jwk`). Default: `public_key` when a jwk is sent, else `api_key`.',
  })
  @IsOptionalNotNull()
  @IsIn(CREDENTIAL_TYPES)
  type?: CredentialType;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: JWK_DESCRIPTION })
  @IsOptionalNotNull()
  @IsJsonObject(MAX_JWK_BYTES)
  jwk?: Record<string, unknown>;

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
