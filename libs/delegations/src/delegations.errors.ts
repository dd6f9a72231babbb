/** Why a delegation token was refused at the token endpoint: for logs, audit and tests, never for the client. */
export type InvalidDelegationReason =
  /** Not a delegation token this server signed, expired by `exp`, wrong `typ`/`aud`, malformed claims. */
  | 'invalid_token'
  /** The token names no delegation row (or one whose token `jti`/delegate differ: not the token issued for it). */
  | 'unknown_delegation'
  /** The authenticated client is not the delegation's delegate. */
  | 'not_delegate'
  /** A consent given at /auth/authorize: usable through the authorization_code grant only (CONTRACT §11). */
  | 'wrong_grant'
  /** This hop or an ancestor hop was revoked. */
  | 'delegation_revoked'
  /** This hop or an ancestor hop expired (at `expires_at` exactly it is already expired). */
  | 'delegation_expired'
  /** An agent on the chain (original delegator or a delegate) is suspended, deactivated or expired. */
  | 'agent_inactive'
  /** The rows do not form a chain (defence in depth; the table's trigger prevents it). */
  | 'broken_chain';

/**
 * Thrown by `DelegationsService.resolveForGrant`: the grant maps every instance to RFC 6749 `invalid_grant`
 * (one description for all reasons; `reason` goes to logs/audit only). Deliberately NOT a Problem: if it ever
 * escaped unmapped it would surface as a server error, not as a misleading client error.
 */
export class InvalidDelegationError extends Error {
  constructor(readonly reason: InvalidDelegationReason) {
    super(`delegation token refused: ${reason}`);
    this.name = 'InvalidDelegationError';
  }
}
