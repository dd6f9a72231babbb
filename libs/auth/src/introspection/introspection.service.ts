import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig, bearerCredential, Clock } from '@agentauth/core';
import { managementResourceIdentifier } from '@agentauth/core';
import { DelegationsService } from '@agentauth/delegations';
import { RevocationStateUnavailableError } from '@agentauth/revocation';
import { coveredBy, formatScopeParam, parseScopeParam } from '@agentauth/scopes';
import { ClientAuthenticator, type ClientAuthContext } from '../protocol/client-authenticator.service';
import { OAuthRequestLimits } from '../protocol/oauth-request-limits';
import {
  InsufficientScopeError,
  InvalidBearerTokenError,
  InvalidRequestError,
  UnauthorizedClientError,
} from '../vocabulary/oauth-errors';
import { requireParam } from '../vocabulary/oauth-params';
import { looksLikeRefreshToken } from '../refresh/refresh-token.format';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { AccessTokenValidator } from '../tokens/access-token.validator';
import { TokenRejectedError } from '../tokens/token-rejected.error';
import { tokenTypeOf } from '../tokens/access-token-claims';

export const INTROSPECT_SCOPE = 'tokens:introspect';

/** RFC 7662 §2.2 response: `{active: false}` and nothing else, or the token's claims. */
export type IntrospectionResponse =
  { active: false } | ({ active: true; token_type: string } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = { active: false };

/** Who asked: the root tree they belong to is the only one whose tokens they may see. */
interface IntrospectionCaller {
  rootAgentId: string;
}

/**
 * `POST /auth/token/introspect` (RFC 7662, CONTRACT §4). The caller authenticates with client credentials
 * (its agent's `allowed_scopes` must include `tokens:introspect`) or a Bearer token carrying that scope.
 * Unknown, malformed, expired, revoked or another tree's tokens — and any doubt (revocation state
 * unreadable) — are `{"active": false}`; an active token answers its claims plus `active` and `token_type`.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly validator: AccessTokenValidator,
    private readonly refresh: RefreshTokensService,
    private readonly delegations: DelegationsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limits: OAuthRequestLimits,
  ) {}

  async introspect(
    req: Request,
    params: Record<string, string>,
    context: ClientAuthContext,
  ): Promise<IntrospectionResponse> {
    const caller = await this.authenticateCaller(req, params, context);
    const token = requireParam(params, 'token');
    if (looksLikeRefreshToken(token)) return this.introspectRefreshToken(token, caller);
    try {
      const claims = await this.validator.validate(token);
      if (claims.agent.root_agent_id !== caller.rootAgentId) return INACTIVE;
      return { ...claims, active: true, token_type: tokenTypeOf(claims) };
    } catch (error) {
      if (error instanceof TokenRejectedError || error instanceof RevocationStateUnavailableError) {
        return INACTIVE;
      }
      throw error;
    }
  }

  /**
   * A refresh token is active while it is unused, its family active and unexpired (RFC 7662 §2.2) and, for
   * a family minted from a delegation, while the delegation chain is usable (what a refresh would check).
   */
  private async introspectRefreshToken(
    raw: string,
    caller: IntrospectionCaller,
  ): Promise<IntrospectionResponse> {
    const found = await this.refresh.find(raw);
    if (!found) return INACTIVE;
    const { token, family } = found;
    if (
      token.status !== 'active' ||
      family.status !== 'active' ||
      family.expiresAt.getTime() <= this.clock.nowMs() ||
      family.rootAgentId !== caller.rootAgentId
    ) {
      return INACTIVE;
    }
    if (family.delegationId && !(await this.delegations.isChainValid(family.delegationId))) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      client_id: family.clientAgentId,
      sub: family.subjectAgentId,
      scope: formatScopeParam(family.scopes),
      aud: family.audience,
      iat: Math.floor(token.createdAt.getTime() / 1000),
      exp: Math.floor(family.expiresAt.getTime() / 1000),
      fam: family.id,
      ...(family.delegationId ? { delegation_id: family.delegationId } : {}),
      ...(family.act ? { act: family.act } : {}),
      ...(family.dpopJkt ? { cnf: { jkt: family.dpopJkt } } : {}),
    };
  }

  private async authenticateCaller(
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
    const client = await this.clients.authenticate(req, params, context);
    // An authenticated client not allowed this endpoint: RFC 6749's unauthorized_client (CONTRACT §1's list).
    if (!coveredBy(INTROSPECT_SCOPE, client.allowedScopes)) {
      throw new UnauthorizedClientError(
        `The client is not authorized to introspect tokens (its agent needs the scope ${INTROSPECT_SCOPE})`,
      );
    }
    return { rootAgentId: client.rootAgentId };
  }
}
