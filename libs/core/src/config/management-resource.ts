import type { AppConfig } from './app-config';

type BaseUrls = Pick<AppConfig, 'publicBaseUrl' | 'apiPrefix'>;

/**
 * The management API's resource identifier (CONTRACT §8): `<PUBLIC_BASE_URL><API_V1_PREFIX>`, the `aud` of
 * every token for the management API and the `resource` of its RFC 9728 metadata (path form).
 */
export function managementResourceIdentifier(config: BaseUrls): string {
  return `${config.publicBaseUrl}${config.apiPrefix}`;
}

/**
 * The URL of the management API's RFC 9728 protected-resource metadata, path form (RFC 9728 §3.1: the
 * well-known segment inserted between the host and the resource's path), named by `resource_metadata` in
 * every management-API 401 challenge.
 */
export function protectedResourceMetadataUrl(config: BaseUrls): string {
  return `${config.publicBaseUrl}/.well-known/oauth-protected-resource${config.apiPrefix}`;
}
