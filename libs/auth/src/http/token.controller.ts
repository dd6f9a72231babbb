import { Controller, Header, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { OAUTH_API_TAG, Public } from '@agentauth/core';
import type { TokenResponse } from '../grants/grant-handler';
import { TokenEndpoint } from '../protocol/token-endpoint';
import { OAuthExceptionFilter } from './oauth-exception.filter';

@ApiTags(OAUTH_API_TAG)
@Controller('auth')
@UseFilters(OAuthExceptionFilter)
export class TokenController {
  constructor(private readonly endpoint: TokenEndpoint) {}

  /** The pipeline is `TokenEndpoint` (protocol/): this is its HTTP face. */
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
    return this.endpoint.handle(req);
  }
}
