import { Problem } from '@agentauth/core';

/** Why a key failed, for logs and the token endpoint's own audit; never shown to the client. */
export type InvalidClientReason =
  | 'malformed_key'
  | 'unknown_key'
  | 'wrong_secret'
  | 'agent_mismatch'
  | 'revoked'
  | 'expired'
  | 'rotated_out'
  | 'agent_inactive'
  /** CONTRACT §11: a public client authenticates nowhere (a key left from before the switch included). */
  | 'public_client';

/**
 * The ONE error of API-key verification, whatever went wrong (unknown prefix, wrong secret, revoked,
 * expired, rotated out past grace, another agent's key, inactive agent): no oracle. The OAuth endpoints'
 * client authentication (libs/auth) maps it to `invalid_client`.
 */
export class InvalidClientCredentials extends Problem {
  constructor(readonly reason: InvalidClientReason) {
    super(401, 'invalid_client', 'Client authentication failed', {
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
    this.name = 'InvalidClientCredentials';
  }
}
