import { Injectable } from '@nestjs/common';
import { Clock } from '@agentauth/core';
import { ACCESS_TOKEN_TYP, InvalidTokenError, TokenVerifier } from '@agentauth/keys';
import { RevocationService } from '@agentauth/revocation';
import {
  type AccessTokenClaims,
  MalformedClaimsError,
  parseAccessTokenClaims,
  revocationRefsOf,
} from './access-token-claims';
import { TokenRejectedError } from './token-rejected.error';

export interface ValidateOptions {
  /** `aud` must contain this (the Bearer guard: the management API's own audience). */
  audience?: string;
}

/**
 * THE answer to "is this access token active?" (ARCHITECTURE rule 4), used by the Bearer guard, by
 * introspection and by token exchange:
 * 1. signature, `alg`, `kid`, `typ: at+jwt`, `iss`, `nbf`/`iat` (±30 s skew), optional `aud` — TokenVerifier;
 * 2. the claims have the shapes this server writes;
 * 3. `exp` without skew: a token is dead at `exp` on this server's clock, so it never outlives its agent or
 *    key (`exp` is bounded by them) even by the verifier's tolerance;
 * 4. revocation: every reference of the token (jti, credential, agents, family, delegation, subject token)
 *    in ONE Redis round trip; `agent` markers are compared with `auth_time`.
 * No database read (PostgreSQL only when the Redis copy of the revocation state is incomplete).
 * Throws `TokenRejectedError` (reason inside), or `RevocationStateUnavailableError` (503) when neither
 * Redis nor PostgreSQL can answer — never "active" when unsure.
 */
@Injectable()
export class AccessTokenValidator {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly revocation: RevocationService,
    private readonly clock: Clock,
  ) {}

  async validate(jwt: string, options: ValidateOptions = {}): Promise<AccessTokenClaims> {
    const claims = await this.verifySignedClaims(jwt, options);
    if (await this.revocation.isRevoked(revocationRefsOf(claims), claims.auth_time)) {
      throw new TokenRejectedError('revoked');
    }
    return claims;
  }

  /** Steps 1–3 only (no revocation check): for revocation requests, which must find revoked tokens too. */
  async verifySignedClaims(jwt: string, options: ValidateOptions = {}): Promise<AccessTokenClaims> {
    let claims: AccessTokenClaims;
    try {
      const { payload } = await this.verifier.verify(jwt, {
        typ: ACCESS_TOKEN_TYP,
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
      });
      claims = parseAccessTokenClaims(payload);
    } catch (error) {
      if (error instanceof InvalidTokenError) throw new TokenRejectedError(error.reason);
      if (error instanceof MalformedClaimsError) throw new TokenRejectedError('malformed_claims');
      throw error;
    }
    if (claims.exp * 1000 <= this.clock.nowMs()) throw new TokenRejectedError('expired');
    return claims;
  }
}
