import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  APP_CONFIG,
  type AppConfig,
  OAUTH_API_TAG,
  PreserializedJson,
  protectedResourceMetadataUrl,
  Public,
} from '@agentauth/core';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';
import { ACCEPTED_JWS_ALGS } from '@agentauth/credentials';
import { GrantRegistry } from '../grants/grant-registry';
import { CLIENT_AUTH_METHODS } from '../vocabulary/client-auth-methods';

/**
 * RFC 8414 metadata and AgentAuth's superset of it. Every URL is absolute, built from PUBLIC_BASE_URL.
 * Both documents are fixed once the app has started (configuration and the registered grants), so each is
 * serialised on its first request and written as that text afterwards.
 */
@ApiTags(OAUTH_API_TAG)
@Public()
@Controller('.well-known')
export class DiscoveryController {
  private oauthMetadataDocument: PreserializedJson | undefined;
  private agentConfigurationDocument: PreserializedJson | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly grants: GrantRegistry,
  ) {}

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'OAuth 2.0 Authorization Server Metadata (RFC 8414)' })
  oauthMetadata(): PreserializedJson {
    return (this.oauthMetadataDocument ??= new PreserializedJson(this.buildOauthMetadata()));
  }

  @Get('agent-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: "AgentAuth server metadata: RFC 8414's fields plus AgentAuth's own endpoints" })
  agentConfiguration(): PreserializedJson {
    return (this.agentConfigurationDocument ??= new PreserializedJson(this.buildAgentConfiguration()));
  }

  private buildOauthMetadata(): Record<string, unknown> {
    const api = `${this.config.publicBaseUrl}${this.config.apiPrefix}`;
    return {
      issuer: this.config.publicBaseUrl,
      // CONTRACT §11: the authorization-code flow with PKCE (S256 only) and RFC 9207's `iss` on every
      // authorization response. MCP clients (the official SDK) refuse metadata without these fields.
      authorization_endpoint: `${api}/auth/authorize`,
      token_endpoint: `${api}/auth/token`,
      jwks_uri: `${api}/auth/jwks`,
      introspection_endpoint: `${api}/auth/token/introspect`,
      revocation_endpoint: `${api}/auth/token/revoke`,
      grant_types_supported: this.grants.grantTypes(),
      // `none`: public clients (CONTRACT §11) name themselves with client_id and rely on PKCE.
      token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS, 'none'],
      introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
      // private_key_jwt (CONTRACT §9): the algorithms a client assertion may be signed with.
      token_endpoint_auth_signing_alg_values_supported: ACCEPTED_JWS_ALGS,
      introspection_endpoint_auth_signing_alg_values_supported: ACCEPTED_JWS_ALGS,
      revocation_endpoint_auth_signing_alg_values_supported: ACCEPTED_JWS_ALGS,
      // DPoP (RFC 9449 §5.1, CONTRACT §10): the algorithms a proof may be signed with.
      dpop_signing_alg_values_supported: ACCEPTED_JWS_ALGS,
      // Scopes only: `offline_access` is a reserved word of the `scope` parameter, not a scope (CONTRACT §4);
      // docs/tokens.md says how to ask for a refresh token.
      scopes_supported: [...BUILT_IN_SCOPES],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      service_documentation: `${this.config.publicBaseUrl}/docs`,
    };
  }

  private buildAgentConfiguration(): Record<string, unknown> {
    const api = `${this.config.publicBaseUrl}${this.config.apiPrefix}`;
    return {
      ...this.buildOauthMetadata(),
      access_token_signing_alg_values_supported: ['RS256'],
      access_token_type: 'at+jwt',
      delegation_token_type: 'delegation+jwt',
      token_exchange_token_types_supported: ['urn:ietf:params:oauth:token-type:access_token'],
      agents_endpoint: `${api}/agents`,
      agent_bootstrap_endpoint: `${api}/agents/bootstrap`,
      credentials_endpoint: `${api}/credentials`,
      delegations_endpoint: `${api}/delegations`,
      policies_endpoint: `${api}/policies`,
      policy_evaluation_endpoint: `${api}/policies/evaluate`,
      scopes_endpoint: `${api}/scopes`,
      resource_servers_endpoint: `${api}/resource-servers`,
      protected_resource_metadata: protectedResourceMetadataUrl(this.config),
      webhooks_endpoint: `${api}/webhooks`,
    };
  }
}
