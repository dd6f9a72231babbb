import type { Credential } from './credential.entity';

export type CredentialState = 'usable' | 'revoked' | 'expired' | 'rotated_out';

/**
 * THE rule for "does this key still work" (CONTRACT §3): revoked or marked expired → never; `expires_at`
 * and a rotation's `grace_until` are exclusive ends (valid at end − 1 ms, invalid at end).
 */
export function credentialState(
  credential: Pick<Credential, 'status' | 'expiresAt' | 'graceUntil'>,
  now: Date,
): CredentialState {
  if (credential.status === 'revoked') return 'revoked';
  // Marked by maintenance: expired whatever the clock says (a clock set back never revives the key).
  if (credential.status === 'expired') return 'expired';
  if (credential.expiresAt && now.getTime() >= credential.expiresAt.getTime()) return 'expired';
  if (credential.graceUntil && now.getTime() >= credential.graceUntil.getTime()) return 'rotated_out';
  return 'usable';
}

/**
 * How `GET /stats` counts a credential (docs/audit.md): `revoked`; else `expired` once `expires_at` has
 * passed; else `rotated` once replaced by a rotation (in its grace period or past it); else `active`. The
 * same exclusive end as `credentialState`, evaluated in SQL by `CredentialsRepository.countByStatsStatus`.
 */
export type CredentialStatsStatus = 'active' | 'rotated' | 'revoked' | 'expired';
export const CREDENTIAL_STATS_STATUSES: readonly CredentialStatsStatus[] = [
  'active',
  'rotated',
  'revoked',
  'expired',
];

/** The earliest of the instants at which the key stops working (null: none set). */
export function credentialEndsAt(credential: Pick<Credential, 'expiresAt' | 'graceUntil'>): Date | null {
  const ends = [credential.expiresAt, credential.graceUntil].filter((d): d is Date => d !== null);
  if (ends.length === 0) return null;
  return new Date(Math.min(...ends.map((d) => d.getTime())));
}
