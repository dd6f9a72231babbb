import { Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Span } from '@opentelemetry/api';
import type { Request } from 'express';
import {
  ClientIpResolver,
  inSpan,
  OAUTH_API_TAG,
  Public,
  requestIdOf,
  setSpanAttributes,
} from '@agentauth/core';
import { ClientAuthenticator } from '../protocol/client-authenticator.service';
import { OAuthRequestLimits } from '../protocol/oauth-request-limits';
import type { GrantHandler, TokenResponse } from '../grants/grant-handler';
import { GrantRegistry } from '../grants/grant-registry';
import { TokenAudit } from '../grants/token-audit';
import { OAuthExceptionFilter } from './oauth-exception.filter';
import { OAuthError, UnsupportedGrantTypeError } from '../vocabulary/oauth-errors';
import { oauthParams } from '../protocol/token-request';
import { requireParam } from '../vocabulary/oauth-params';

@ApiTags(OAUTH_API_TAG)
@Controller('auth')
@UseFilters(OAuthExceptionFilter)
export class TokenController {
  constructor(
    private readonly grants: GrantRegistry,
    private readonly clients: ClientAuthenticator,
    private readonly audit: TokenAudit,
    private readonly clientIp: ClientIpResolver,
    private readonly limits: OAuthRequestLimits,
  ) {}

  /**
   * A short pipeline: parameters → grant type → client authentication (every grant requires it) → the
   * grant's handler. Every refusal is audited: `token.issue_failed` before client authentication (bad
   * parameters, missing or unsupported grant type) and after it, `client_auth.failed` (by the
   * authenticator) in between. Refusals before client authentication count against the client IP first
   * (over the limit: 429, no row); an authenticated client's request counts against its agent.
   */
  @Post('token')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary:
      'Token endpoint (RFC 6749 §3.2): client_credentials, refresh_token, token exchange (RFC 8693), agent_delegation',
    description:
      'Form-encoded (or JSON) body. Client authentication by HTTP Basic (client_secret_basic, id and secret form-urlencoded), client_id/client_secret fields (client_secret_post) or client_assertion_type/client_assertion (private_key_jwt, RFC 7523). An optional `DPoP` header (RFC 9449 proof, htu = the token endpoint URL) binds the tokens: token_type DPoP, cnf.jkt. Errors are RFC 6749 §5.2 bodies (invalid_dpop_proof for a missing or bad proof).',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['grant_type'],
      properties: {
        grant_type: { type: 'string', example: 'client_credentials' },
        scope: { type: 'string', example: 'agents:read offline_access' },
        resource: { type: 'string' },
        audience: { type: 'string' },
        client_id: { type: 'string' },
        client_secret: { type: 'string' },
        client_assertion_type: {
          type: 'string',
          enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
        },
        client_assertion: { type: 'string', description: 'private_key_jwt (RFC 7523 §2.2)' },
        refresh_token: { type: 'string' },
        delegation_token: { type: 'string' },
        subject_token: { type: 'string' },
        subject_token_type: { type: 'string' },
        actor_token: { type: 'string' },
        actor_token_type: { type: 'string' },
        requested_token_type: { type: 'string' },
      },
    },
  })
  @ApiOkResponse({
    description: '{access_token, token_type, expires_in, scope, refresh_token?, issued_token_type?}',
  })
  token(@Req() req: Request): Promise<TokenResponse> {
    const requestId = requestIdOf(req);
    const attributes = requestId ? { 'agentauth.request_id': requestId } : {};
    return inSpan('oauth.token', { attributes }, (span) => this.tokenInSpan(req, requestId, span));
  }

  private async tokenInSpan(
    req: Request,
    requestId: string | undefined,
    span?: Span,
  ): Promise<TokenResponse> {
    const ip = this.clientIp.resolve(req);
    const { params, grantType, handler } = await this.requestedGrant(req, ip, requestId);
    // A registered grant type only (an unknown one was refused above): never free text from the body.
    setSpanAttributes(span, { 'oauth.grant_type': grantType });
    const client = await this.clients.authenticate(req, params, { ip, requestId, endpoint: 'token' });
    setSpanAttributes(span, { 'agentauth.agent_id': client.agentId });
    const context = { params, req, ip, requestId, client };
    try {
      return await inSpan('oauth.grant', { attributes: { 'oauth.grant_type': grantType } }, () =>
        handler.handle(context),
      );
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
  ): Promise<{ params: Record<string, string>; grantType: string; handler: GrantHandler }> {
    let params: Record<string, string> = {};
    try {
      params = oauthParams(req);
      const grantType = requireParam(params, 'grant_type');
      const handler = this.grants.find(grantType);
      if (!handler) throw new UnsupportedGrantTypeError(grantType);
      return { params, grantType, handler };
    } catch (error) {
      if (error instanceof OAuthError) {
        await this.limits.refusedBeforeAuthentication(req, 'before_client_authentication');
        await this.audit.refusedBeforeAuthentication({ req, ip, requestId }, params, error);
      }
      throw error;
    }
  }
}
