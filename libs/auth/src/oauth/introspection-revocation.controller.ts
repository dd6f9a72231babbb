import { Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ClientIpResolver, OAUTH_API_TAG, Public, requestIdOf } from '@agentauth/core';
import { type IntrospectionResponse, IntrospectionService } from '../introspection/introspection.service';
import { TokenRevocationService } from '../revocation/token-revocation.service';
import { OAuthExceptionFilter } from './oauth-exception.filter';
import { oauthParams } from './token-request';

const TOKEN_BODY = {
  schema: {
    type: 'object',
    required: ['token'],
    properties: {
      token: { type: 'string' },
      token_type_hint: { type: 'string', enum: ['access_token', 'refresh_token'] },
      client_id: { type: 'string' },
      client_secret: { type: 'string' },
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
    return this.introspection.introspect(req, oauthParams(req), this.context(req, 'introspect'));
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
    await this.revocation.revoke(req, oauthParams(req), this.context(req, 'revoke'));
  }

  private context(req: Request, endpoint: 'introspect' | 'revoke') {
    return { ip: this.clientIp.resolve(req), requestId: requestIdOf(req), endpoint };
  }
}
