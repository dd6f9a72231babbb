import { UnauthorizedProblem } from '@agentauth/core';
import type { InvalidTokenReason } from '@agentauth/keys';

/** Why an access token is not active: for logs, audit details and tests only — never sent to a client. */
export type TokenRejectionReason = InvalidTokenReason | 'malformed_claims' | 'expired' | 'revoked';

/**
 * An access token that is not active (forged, malformed, expired, revoked, or its agent/credential/family/
 * delegation/subject was revoked). Rendered exactly like the verifier's `InvalidTokenError` (RFC 6750:
 * 401, `WWW-Authenticate: Bearer error="invalid_token"`), the same whatever the reason.
 */
export class TokenRejectedError extends UnauthorizedProblem {
  constructor(readonly reason: TokenRejectionReason) {
    super('The token is invalid or expired', 'invalid_token', 'Bearer error="invalid_token"');
    this.name = 'TokenRejectedError';
  }
}
