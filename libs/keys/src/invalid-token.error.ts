import { UnauthorizedProblem } from '@agentauth/core';

/** Why a token was refused: for logs, metrics and tests only — never sent to a client. */
export type InvalidTokenReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'missing_kid'
  | 'unknown_kid'
  | 'typ_mismatch'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim';

/**
 * The one error every refused token produces. Its HTTP form (401, `WWW-Authenticate: Bearer
 * error="invalid_token"`) and message are the same whatever the reason; `reason` stays server-side.
 */
export class InvalidTokenError extends UnauthorizedProblem {
  constructor(readonly reason: InvalidTokenReason) {
    super('The token is invalid or expired', 'invalid_token', 'Bearer error="invalid_token"');
    this.name = 'InvalidTokenError';
  }
}
