import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  type AccessTokenScheme,
  APP_CONFIG,
  type AppConfig,
  type BearerAuthenticator,
  managementResourceIdentifier,
  type Principal,
  UnauthorizedProblem,
} from '@agentauth/core';
import { DPOP_SIGNING_ALGS, DpopProofError, DpopProofValidator } from '../protocol/dpop-proof.validator';
import { type AccessTokenClaims, principalOf } from '../tokens/access-token-claims';
import { AccessTokenValidator } from '../tokens/access-token.validator';

/**
 * A 401 about DPoP at the management API (RFC 9449 §7.1): a DPoP-bound token sent as Bearer, an unbound
 * token sent with the DPoP scheme, or a missing/invalid proof. The Bearer challenge comes first (CONTRACT
 * §8), then `DPoP error="…", algs="…"`. `reason` is for the audit trail only.
 */
export class DpopRequestRejectedError extends UnauthorizedProblem {
  constructor(
    readonly reason: string,
    error: 'invalid_token' | 'invalid_dpop_proof',
  ) {
    super(
      error === 'invalid_token' ? 'The token is invalid or expired' : 'The DPoP proof is invalid',
      error,
      `Bearer realm="agentauth", DPoP error="${error}", algs="${DPOP_SIGNING_ALGS.join(' ')}"`,
    );
    this.name = 'DpopRequestRejectedError';
  }
}

/** The request's path without its query (what `htu` names). */
function requestPath(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const query = url.indexOf('?');
  return query >= 0 ? url.slice(0, query) : url;
}

/**
 * The management API's authentication (`BEARER_AUTHENTICATOR` for the global guard): an access token this
 * server issued for its own audience (the management identifier, `<PUBLIC_BASE_URL><API_V1_PREFIX>` — a token minted for another resource never opens the
 * management API), active by `AccessTokenValidator` (signature, claims, expiry, revocation state in one Redis
 * round trip; no database read). Refused tokens throw `TokenRejectedError`: 401 `invalid_token` with
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1); the guard counts the failure against
 * the client IP and records it as `client_auth.failed` (cause = the rejection reason) through its refusal
 * ports. When the revocation state cannot be read at all the request fails with 503 (fail closed).
 *
 * DPoP (RFC 9449 §7, CONTRACT §10): a token with `cnf.jkt` is accepted only as `Authorization: DPoP <token>`
 * with a `DPoP` proof for this request (htm = the method, htu = PUBLIC_BASE_URL + the path, `ath` = the
 * token's hash, fresh `iat`, unused `jti`) by the key `cnf.jkt` names; a token without `cnf` only as Bearer.
 */
@Injectable()
export class JwtBearerAuthenticator implements BearerAuthenticator {
  constructor(
    private readonly validator: AccessTokenValidator,
    private readonly dpop: DpopProofValidator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async authenticate(token: string, req: Request, scheme: AccessTokenScheme = 'Bearer'): Promise<Principal> {
    const claims = await this.validator.validate(token, {
      audience: managementResourceIdentifier(this.config),
    });
    await this.checkSenderConstraint(claims, token, req, scheme);
    return principalOf(claims);
  }

  private async checkSenderConstraint(
    claims: AccessTokenClaims,
    token: string,
    req: Request,
    scheme: AccessTokenScheme,
  ): Promise<void> {
    if (!claims.cnf) {
      if (scheme === 'DPoP') throw new DpopRequestRejectedError('unbound_token_as_dpop', 'invalid_token');
      return;
    }
    if (scheme !== 'DPoP') throw new DpopRequestRejectedError('dpop_bound_token_as_bearer', 'invalid_token');
    let jkt: string;
    try {
      const proof = DpopProofValidator.proofOf(req.headers.dpop);
      if (proof === undefined) throw new DpopProofError('missing');
      ({ jkt } = await this.dpop.validate(proof, {
        method: req.method,
        path: requestPath(req),
        accessToken: token,
      }));
    } catch (error) {
      if (error instanceof DpopProofError) {
        throw new DpopRequestRejectedError(`dpop_proof_${error.reason}`, 'invalid_dpop_proof');
      }
      throw error;
    }
    if (jkt !== claims.cnf.jkt) throw new DpopRequestRejectedError('dpop_key_mismatch', 'invalid_dpop_proof');
  }
}
