import type { JWK } from 'jose';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PublicKeyAlg } from './public-key';

/** An API key (a secret, CONTRACT §3) or a public key the agent signs client assertions with (§9). */
export type CredentialType = 'api_key' | 'public_key';
export const CREDENTIAL_TYPES: readonly CredentialType[] = ['api_key', 'public_key'];

/**
 * `active` until revoked; `expired` once the maintenance run has seen its `expires_at` pass (the key stops
 * verifying at `expires_at` either way: the status is for lists, `/stats` and operators).
 */
export type CredentialStatus = 'active' | 'revoked' | 'expired';
export const CREDENTIAL_STATUSES: readonly CredentialStatus[] = ['active', 'revoked', 'expired'];

/**
 * A credential (CONTRACT §3, §9). An API key's raw value is never stored: `hash` is argon2id over its secret
 * part. A public key has no secret: its public JWK, `kid`, `alg` and thumbprint (the other type's columns are
 * null; a check constraint says so).
 */
@Entity({ name: 'credentials' })
export class Credential {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  agentId: string;

  @Column('text')
  type: CredentialType;

  @Column('text', { nullable: true })
  name: string | null;

  /** API keys: the public lookup id inside the key (`aa_<prefix>_<secret>`). */
  @Column('text', { nullable: true })
  prefix: string | null;

  /** API keys: argon2id PHC string: internal, never in a response or a log line. */
  @Column('text', { nullable: true })
  hash: string | null;

  /** Public keys: the public JWK (public members, `kid`, `alg`, `use`). */
  @Column('jsonb', { nullable: true })
  jwk: JWK | null;

  /** Public keys: the JWK's `kid`, else its thumbprint. */
  @Column('text', { nullable: true })
  kid: string | null;

  /** Public keys: the one algorithm its assertions must use. */
  @Column('text', { nullable: true })
  alg: PublicKeyAlg | null;

  /** Public keys: RFC 7638 SHA-256 thumbprint (base64url). */
  @Column('text', { nullable: true })
  thumbprint: string | null;

  @Column('text', { array: true })
  scopes: string[];

  @Column('text')
  status: CredentialStatus;

  @Column('timestamptz', { nullable: true })
  expiresAt: Date | null;

  /** Set when rotated: the key keeps working until this instant (exclusive). */
  @Column('timestamptz', { nullable: true })
  graceUntil: Date | null;

  @Column('uuid', { nullable: true })
  rotatedToId: string | null;

  @Column('timestamptz', { nullable: true })
  lastUsedAt: Date | null;

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz', { nullable: true })
  revokedAt: Date | null;
}
