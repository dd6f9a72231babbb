import { Inject, Injectable } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import type { Request } from 'express';
import {
  APP_CONFIG,
  type AppConfig,
  ClientIpResolver,
  inSpan,
  requestIdOf,
  setSpanAttributes,
} from '@agentauth/core';
import type { PresentedDpopProof } from '../grants/dpop-binding';
import type { GrantHandler, GrantResult, TokenRequestContext, TokenResponse } from '../grants/grant-handler';
import { GrantRegistry } from '../grants/grant-registry';
import { TokenAudit } from '../grants/token-audit';
import { tokenTypeOf } from '../tokens/access-token-claims';
import { InvalidDpopProofError, OAuthError, UnsupportedGrantTypeError } from '../vocabulary/oauth-errors';
import { requireParam } from '../vocabulary/oauth-params';
import { type PresentedClient, presentedClient } from './client-authentication';
import { ClientAuthenticator } from './client-authenticator.service';
import { DpopProofError, DpopProofValidator } from './dpop-proof.validator';
import { OAuthRequestLimits } from './oauth-request-limits';
import { oauthParams } from './token-request';

/** The RFC 6749 §5.1 response for what a grant issued: the same shape for every grant. */
function tokenResponse(result: GrantResult): TokenResponse {
  return {
    access_token: result.token.jwt,
    ...(result.issuedTokenType !== undefined ? { issued_token_type: result.issuedTokenType } : {}),
    token_type: tokenTypeOf(result.token.claims),
    expires_in: result.token.expiresIn,
    scope: result.token.claims.scope,
    ...(result.refreshToken !== undefined ? { refresh_token: result.refreshToken } : {}),
  };
}

/**
 * The token endpoint (RFC 6749 §3.2) as a short pipeline of named steps, the same for every grant (the
 * oidc-provider shape): parameters → grant type → client authentication (every grant requires it; once,
 * here) → the grant's own rule (`GrantHandler.handle`, plain values in) → `token.issued` → the response.
 * Every refusal is audited: `token.issue_failed` before client authentication (bad parameters, missing or
 * unsupported grant type) and after it, `client_auth.failed` (by the authenticator) in between. Refusals
 * before client authentication count against the client IP first (over the limit: 429, no row); an
 * authenticated client's request counts against its agent.
 */
@Injectable()
export class TokenEndpoint {
  constructor(
    private readonly grants: GrantRegistry,
    private readonly clients: ClientAuthenticator,
    private readonly audit: TokenAudit,
    private readonly clientIp: ClientIpResolver,
    private readonly limits: OAuthRequestLimits,
    private readonly dpopProofs: DpopProofValidator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  handle(req: Request): Promise<TokenResponse> {
    const requestId = requestIdOf(req);
    const attributes = requestId ? { 'agentauth.request_id': requestId } : {};
    return inSpan('oauth.token', { attributes }, (span) => this.handleInSpan(req, requestId, span));
  }

  private async handleInSpan(
    req: Request,
    requestId: string | undefined,
    span?: Span,
  ): Promise<TokenResponse> {
    const ip = this.clientIp.resolve(req);
    const { params, presented, grantType, handler } = await this.requestedGrant(req, ip, requestId);
    // A registered grant type only (an unknown one was refused above): never free text from the body.
    setSpanAttributes(span, { 'oauth.grant_type': grantType });
    const client = await this.clients.authenticate(req, presented, {
      ip,
      requestId,
      endpoint: 'token',
      allowPublic: handler.publicClients === true,
    });
    setSpanAttributes(span, { 'agentauth.agent_id': client.agentId });
    const context: TokenRequestContext = { params, dpop: this.dpopProofOf(req), ip, requestId, client };
    try {
      return await inSpan('oauth.grant', { attributes: { 'oauth.grant_type': grantType } }, async () => {
        const result = await handler.handle(context);
        await this.audit.issued(context, handler.auditedAs, result.token.claims, {
          credential_id: client.credentialId,
          dpop_bound: result.token.claims.cnf !== undefined,
          ...result.auditDetails,
        });
        return tokenResponse(result);
      });
    } catch (error) {
      if (error instanceof OAuthError) await this.audit.failed(context, grantType, client, error);
      throw error;
    }
  }

  /**
   * The body's parameters and the grant they name. A refusal here (before client authentication) is one
   * request of the IP's bucket — 429 once over, with no audit row — and is audited otherwise.
   */
  private async requestedGrant(
    req: Request,
    ip: string,
    requestId: string | undefined,
  ): Promise<{
    params: Record<string, string>;
    presented: PresentedClient;
    grantType: string;
    handler: GrantHandler;
  }> {
    let params: Record<string, string> = {};
    try {
      params = oauthParams(req);
      const grantType = requireParam(params, 'grant_type');
      const handler = this.grants.find(grantType);
      if (!handler) throw new UnsupportedGrantTypeError(grantType);
      return { params, presented: presentedClient(req, params), grantType, handler };
    } catch (error) {
      if (error instanceof OAuthError) {
        await this.limits.refusedBeforeAuthentication(req, 'before_client_authentication');
        const { claimedClientId } = presentedClient(req, params);
        await this.audit.refusedBeforeAuthentication({ ip, requestId }, claimedClientId, params, error);
      }
      throw error;
    }
  }

  /**
   * The request's `DPoP` header as the grants receive it: validated once, when a grant binds its tokens
   * (htm POST, htu = the token endpoint's URL); an invalid or replayed proof is `invalid_dpop_proof`.
   */
  private dpopProofOf(req: Request): PresentedDpopProof {
    let validated: Promise<{ jkt: string } | undefined> | undefined;
    const validate = async (): Promise<{ jkt: string } | undefined> => {
      try {
        const proof = DpopProofValidator.proofOf(req.headers.dpop);
        if (proof === undefined) return undefined;
        const { jkt } = await this.dpopProofs.validate(proof, {
          method: req.method,
          path: `${this.config.apiPrefix}/auth/token`,
        });
        return { jkt };
      } catch (error) {
        if (error instanceof DpopProofError)
          throw new InvalidDpopProofError('Invalid DPoP proof', error.reason);
        throw error;
      }
    };
    return { validated: () => (validated ??= validate()) };
  }
}
