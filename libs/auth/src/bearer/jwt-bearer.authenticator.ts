import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type BearerAuthenticator, type Principal } from '@agentauth/core';
import { managementResourceIdentifier } from '@agentauth/core';
import { principalOf } from '../tokens/access-token-claims';
import { AccessTokenValidator } from '../tokens/access-token.validator';

/**
 * The management API's authentication (`BEARER_AUTHENTICATOR` for the global guard): an access token this
 * server issued for its own audience (`TOKEN_AUDIENCE` — a token minted for another resource never opens the
 * management API), active by `AccessTokenValidator` (signature, claims, expiry, revocation state in one Redis
 * round trip; no database read). Refused tokens throw `TokenRejectedError`: 401 `invalid_token` with
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1); the guard counts the failure against
 * the client IP and records it as `client_auth.failed` (cause = the rejection reason) through its refusal
 * ports. When the revocation state cannot be read at all the request fails with 503 (fail closed).
 */
@Injectable()
export class JwtBearerAuthenticator implements BearerAuthenticator {
  constructor(
    private readonly validator: AccessTokenValidator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async authenticate(bearer: string): Promise<Principal> {
    return principalOf(
      await this.validator.validate(bearer, { audience: managementResourceIdentifier(this.config) }),
    );
  }
}
