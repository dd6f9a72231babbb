import { ApiProperty } from '@nestjs/swagger';
import { maskApiKey } from '../api-key';
import { type Credential, CREDENTIAL_STATUSES, type CredentialStatus } from '../credential.entity';

/** A credential as lists show it: prefix and a masked key, never the hash or the secret. */
export class CredentialResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) agent_id: string;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ example: 'k3j9x0a1b2c3d4e5' }) prefix: string;
  @ApiProperty({ example: 'aa_k3j9x0a1b2c3d4e5_****' }) masked_key: string;
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

/** A new credential: the raw key, shown this once. */
export class IssuedCredentialResponse extends CredentialResponse {
  @ApiProperty({ description: 'The raw API key. Shown once; store it now.' })
  api_key: string;
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
    name: c.name,
    prefix: c.prefix,
    masked_key: maskApiKey(c.prefix),
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
