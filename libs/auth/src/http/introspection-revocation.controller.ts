import { Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ClientIpResolver, OAUTH_API_TAG, Public, requestIdOf } from '@agentauth/core';
import { OAuthRequestLimits } from '../protocol/oauth-request-limits';
import { type IntrospectionResponse, IntrospectionService } from '../introspection/introspection.service';
import { TokenRevocationService } from '../revocation/token-revocation.service';
import { OAuthExceptionFilter } from './oauth-exception.filter';
import { OAuthError } from '../vocabulary/oauth-errors';
import { presentedClient } from '../protocol/client-authentication';
import { ClientAuthenticator } from '../protocol/client-authenticator.service';
import { IntrospectionCallers } from '../protocol/introspection-caller';
import { oauthParams } from '../protocol/token-request';
import { requireParam } from '../vocabulary/oauth-params';

const TOKEN_BODY = {
  schema: {
    type: 'object',
    required: ['token'],
    properties: {
      token: { type: 'string' },
      token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] },
      client_id: { type: 'string' },
      client_secret: { type: 'string' },
      client_assertion_type: {
        type: 'string',
        enum: ['urn:ietf:params:oauth:client-assertion-type:jwt-bearer'],
      },
      client_assertion: { type: 'string', description: 'private_key_jwt (RFC 7523 §2.2)' },
    },
  },
};

/** RFC 7662 introspection and RFC 7009 revocation: OAuth error bodies, `Cache-Control: no-store`. */
@ApiTags(OAUTH_API_TAG)
@Controller('auth/token')
@UseFilters(OAuthExceptionFilter)
export class IntrospectionRevocationController {
  constructor(
    private readonly introspection: IntrospectionService,
    private readonly revocation: TokenRevocationService,
    private readonly clientIp: ClientIpResolver,
    private readonly limits: OAuthRequestLimits,
    private readonly callers: IntrospectionCallers,
    private readonly clients: ClientAuthenticator,
  ) {}

  @Post('introspect')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Token introspection (RFC 7662)',
    description:
      'Caller: client credentials of an agent whose allowed_scopes include tokens:introspect (else 400 unauthorized_client), or a Bearer token with that scope (else 403 insufficient_scope, RFC 6750). Inactive, unknown or another tree’s tokens: {"active": false}.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody(TOKEN_BODY)
  @ApiOkResponse({ description: '{active: false} or the token claims plus active and token_type' })
  async introspect(@Req() req: Request): Promise<IntrospectionResponse> {
    const params = await this.params(req);
    const started = this.introspection.begin(params.token);
    const caller = await this.callers.authenticate(req, params, this.context(req, 'introspect'));
    return this.introspection.introspect(requireParam(params, 'token'), caller, started);
  }

  @Post('revoke')
  @Public()
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @ApiOperation({
    summary: 'Token revocation (RFC 7009)',
    description:
      'Client authentication required. Revokes an access token (until its exp) or a refresh token (its whole family) issued to the caller or an agent of its subtree; 200 for unknown or invalid tokens.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody(TOKEN_BODY)
  @ApiOkResponse({ description: 'Empty body' })
  async revoke(@Req() req: Request): Promise<void> {
    const params = await this.params(req);
    const context = this.context(req, 'revoke');
    const caller = await this.clients.authenticate(req, presentedClient(req, params), context);
    await this.revocation.revoke(requireParam(params, 'token'), caller, context);
  }

  /** The body's parameters; a malformed body is refused before client authentication: the IP's bucket. */
  private async params(req: Request): Promise<Record<string, string>> {
    try {
      return oauthParams(req);
    } catch (error) {
      if (error instanceof OAuthError) await this.limits.refusedBeforeAuthentication(req, 'malformed_body');
      throw error;
    }
  }

  private context(req: Request, endpoint: 'introspect' | 'revoke') {
    return { ip: this.clientIp.resolve(req), requestId: requestIdOf(req), endpoint };
  }
}
