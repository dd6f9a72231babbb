import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { maskApiKey } from '../api-key';
import {
  type Credential,
  CREDENTIAL_STATUSES,
  CREDENTIAL_TYPES,
  type CredentialStatus,
  type CredentialType,
} from '../credential.entity';

/**
 * A credential as lists show it: an API key's prefix and a masked key, never the hash or the secret; a
 * public key's `kid`, `alg`, thumbprint and public JWK (there is nothing secret in it).
 */
export class CredentialResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) agent_id: string;
  @ApiProperty({ enum: CREDENTIAL_TYPES }) type: CredentialType;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'k3j9x0a1b2c3d4e5', description: 'API keys only.' })
  prefix: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'aa_k3j9x0a1b2c3d4e5_****',
    description: 'API keys only.',
  })
  masked_key: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Public keys only: the JWK kid (default: thumbprint).',
  })
  kid: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    enum: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    description: 'Public keys only: the algorithm its client assertions must use.',
  })
  alg: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Public keys only: RFC 7638 SHA-256 thumbprint.',
  })
  thumbprint: string | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    description: 'Public keys only: the public JWK.',
  })
  jwk: Record<string, unknown> | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({
    enum: CREDENTIAL_STATUSES,
    description:
      '`expired` once the maintenance run has seen `expires_at` pass (the key is refused from `expires_at` on either way).',
  })
  status: CredentialStatus;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Rotated keys stop here.' })
  grace_until: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) rotated_to_id: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) last_used_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revoked_at: string | null;
}

/** A new credential: the raw key, shown this once (API keys; a public key has no secret: absent). */
export class IssuedCredentialResponse extends CredentialResponse {
  @ApiPropertyOptional({ description: 'API keys only: the raw API key. Shown once; store it now.' })
  api_key?: string;
}

export class RotatedCredentialResponse extends IssuedCredentialResponse {
  @ApiProperty({ type: CredentialResponse, description: 'The rotated-out key, valid until its grace_until.' })
  previous: CredentialResponse;
}

export class CredentialPageResponse {
  @ApiProperty({ type: [CredentialResponse] }) items: CredentialResponse[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function credentialView(c: Credential): CredentialResponse {
  return {
    id: c.id,
    agent_id: c.agentId,
    type: c.type,
    name: c.name,
    prefix: c.prefix,
    masked_key: c.prefix !== null ? maskApiKey(c.prefix) : null,
    kid: c.kid,
    alg: c.alg,
    thumbprint: c.thumbprint,
    jwk: c.jwk ? { ...c.jwk } : null,
    scopes: c.scopes,
    status: c.status,
    expires_at: iso(c.expiresAt),
    grace_until: iso(c.graceUntil),
    rotated_to_id: c.rotatedToId,
    last_used_at: iso(c.lastUsedAt),
    created_at: c.createdAt.toISOString(),
    revoked_at: iso(c.revokedAt),
  };
}

/** A freshly issued credential as the API answers it: `api_key` only when there is one. */
export function issuedCredentialView(c: Credential, apiKey: string | null): IssuedCredentialResponse {
  return { ...credentialView(c), ...(apiKey !== null ? { api_key: apiKey } : {}) };
}
