import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * `active` until revoked; `expired` once the maintenance run has seen its `expires_at` pass (the key stops
 * verifying at `expires_at` either way: the status is for lists, `/stats` and operators).
 */
export type CredentialStatus = 'active' | 'revoked' | 'expired';
export const CREDENTIAL_STATUSES: readonly CredentialStatus[] = ['active', 'revoked', 'expired'];

/** An API key (CONTRACT §3). The raw key is never stored: `hash` is argon2id over its secret part. */
@Entity({ name: 'credentials' })
export class Credential {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  agentId: string;

  @Column('text', { nullable: true })
  name: string | null;

  /** Public lookup id inside the key (`aa_<prefix>_<secret>`). */
  @Column('text')
  prefix: string;

  /** argon2id PHC string: internal, never in a response or a log line. */
  @Column('text')
  hash: string;

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
