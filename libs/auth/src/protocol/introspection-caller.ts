import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig, bearerCredential, managementResourceIdentifier } from '@agentauth/core';
import { coveredBy, parseScopeParam } from '@agentauth/scopes';
import { INTROSPECT_SCOPE, type IntrospectionCaller } from '../introspection/introspection.service';
import { TokenRejectedError } from '../tokens/token-rejected.error';
import { AccessTokenValidator } from '../tokens/access-token.validator';
import {
  InsufficientScopeError,
  InvalidBearerTokenError,
  InvalidRequestError,
  UnauthorizedClientError,
} from '../vocabulary/oauth-errors';
import { presentedClient } from './client-authentication';
import { ClientAuthenticator, type ClientAuthContext } from './client-authenticator.service';
import { OAuthRequestLimits } from './oauth-request-limits';

/**
 * Who calls the introspection endpoint (RFC 7662 §2.1): a client authenticated by its credentials whose
 * agent's `allowed_scopes` include `tokens:introspect`, or a Bearer token carrying that scope. The endpoint
 * authenticates its caller here, once, and hands `IntrospectionService` the plain result.
 */
@Injectable()
export class IntrospectionCallers {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly validator: AccessTokenValidator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limits: OAuthRequestLimits,
  ) {}

  async authenticate(
    req: Request,
    params: Record<string, string>,
    context: ClientAuthContext,
  ): Promise<IntrospectionCaller> {
    if (/^Bearer\s/i.test(req.headers.authorization?.trim() ?? '')) {
      // Bearer failures are counted and audited exactly as the global guard treats a refused token.
      const bearer = bearerCredential(req);
      if (bearer === undefined) {
        await this.limits.bearerRefused(req, 'malformed_authorization');
        throw new InvalidBearerTokenError('malformed');
      }
      if (params.client_secret !== undefined || params.client_assertion !== undefined) {
        await this.limits.refusedBeforeAuthentication(req, 'two_authentication_methods');
        throw new InvalidRequestError('Use only one authentication method');
      }
      let claims;
      try {
        claims = await this.validator.validate(bearer, {
          audience: managementResourceIdentifier(this.config),
        });
      } catch (error) {
        if (error instanceof TokenRejectedError) {
          await this.limits.bearerRefused(req, error.reason);
          throw new InvalidBearerTokenError(error.reason);
        }
        throw error;
      }
      // A DPoP-bound token is never a Bearer credential (RFC 9449 §7.2): this endpoint takes no DPoP scheme.
      if (claims.cnf) {
        await this.limits.bearerRefused(req, 'dpop_bound_token_as_bearer');
        throw new InvalidBearerTokenError('dpop_bound_token_as_bearer');
      }
      await this.limits.authenticated(claims.client_id, {
        ip: context.ip,
        rootAgentId: claims.agent.root_agent_id,
        requestId: context.requestId,
      });
      // RFC 6750 §3.1 for a Bearer-authenticated call (RFC 7662 §2.1 defers to it): 403 insufficient_scope.
      if (!coveredBy(INTROSPECT_SCOPE, parseScopeParam(claims.scope))) {
        throw new InsufficientScopeError(INTROSPECT_SCOPE);
      }
      return { rootAgentId: claims.agent.root_agent_id };
    }
    const client = await this.clients.authenticate(req, presentedClient(req, params), context);
    // An authenticated client not allowed this endpoint: RFC 6749's unauthorized_client (CONTRACT §1's list).
    if (!coveredBy(INTROSPECT_SCOPE, client.allowedScopes)) {
      throw new UnauthorizedClientError(
        `The client is not authorized to introspect tokens (its agent needs the scope ${INTROSPECT_SCOPE})`,
      );
    }
    return { rootAgentId: client.rootAgentId };
  }
}
