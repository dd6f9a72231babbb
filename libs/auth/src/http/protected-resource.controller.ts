import { Controller, Get, Header, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  APP_CONFIG,
  type AppConfig,
  managementResourceIdentifier,
  NotFoundProblem,
  OAUTH_API_TAG,
  Public,
} from '@agentauth/core';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';

/**
 * RFC 9728 protected-resource metadata of AgentAuth's own management API (CONTRACT §8), in both forms a
 * client may look for: the path form `/.well-known/oauth-protected-resource<API_V1_PREFIX>` (`resource` =
 * the management identifier, the `aud` of its tokens; named by every 401's `resource_metadata`) and the
 * root form `/.well-known/oauth-protected-resource` (`resource` = the base URL, which a token request may
 * also name: the same tokens). Resource servers registered by the trees publish their own metadata.
 */
@ApiTags(OAUTH_API_TAG)
@Public()
@Controller('.well-known')
export class ProtectedResourceController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get('oauth-protected-resource')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Protected Resource Metadata (RFC 9728) of the management API, root form' })
  rootMetadata(): Record<string, unknown> {
    return this.metadata(this.config.publicBaseUrl);
  }

  @Get('oauth-protected-resource/*path')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'Protected Resource Metadata (RFC 9728) of the management API, path form (…/api/v1)',
  })
  pathMetadata(@Param('path') path: string | string[]): Record<string, unknown> {
    const suffix = `/${Array.isArray(path) ? path.join('/') : path}`;
    if (suffix !== this.config.apiPrefix) throw new NotFoundProblem('protected resource');
    return this.metadata(managementResourceIdentifier(this.config));
  }

  private metadata(resource: string): Record<string, unknown> {
    return {
      resource,
      authorization_servers: [this.config.publicBaseUrl],
      scopes_supported: [...BUILT_IN_SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: `${this.config.appName} management API`,
      resource_documentation: `${this.config.publicBaseUrl}/docs`,
    };
  }
}
