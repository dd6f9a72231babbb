import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '@agentauth/audit';
import {
  APP_CONFIG,
  type AppConfig,
  type BearerAuthenticator,
  ClientIpResolver,
  type Principal,
  requestIdOf,
} from '@agentauth/core';
import { principalOf } from '../tokens/access-token-claims';
import { AccessTokenValidator } from '../tokens/access-token.validator';
import { TokenRejectedError } from '../tokens/token-rejected.error';

/**
 * The management API's authentication (`BEARER_AUTHENTICATOR` for the global guard): an access token this
 * server issued for its own audience (`TOKEN_AUDIENCE` — a token minted for another resource never opens the
 * management API), active by `AccessTokenValidator` (signature, claims, expiry, revocation state in one Redis
 * round trip; no database read). Refused tokens answer 401 `invalid_token` with
 * `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1) and are audited as `client_auth.failed`.
 * When the revocation state cannot be read at all the request fails with 503 (fail closed).
 */
@Injectable()
export class JwtBearerAuthenticator implements BearerAuthenticator {
  constructor(
    private readonly validator: AccessTokenValidator,
    private readonly audit: AuditService,
    private readonly clientIp: ClientIpResolver,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async authenticate(bearer: string, req: Request): Promise<Principal> {
    try {
      return principalOf(await this.validator.validate(bearer, { audience: this.config.tokenAudience }));
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        await this.audit.record({
          eventType: 'client_auth.failed',
          outcome: 'failure',
          ip: this.clientIp.resolve(req),
          requestId: requestIdOf(req) ?? null,
          details: { reason: 'invalid_token', cause: error.reason },
        });
      }
      throw error;
    }
  }
}
