import { DPOP_ALGORITHMS } from './dpop.js';

/** RFC 9728 protected-resource metadata. */
export interface ProtectedResourceMetadata {
  /** The resource identifier (the `aud` of its tokens). */
  resource: string;
  /** Issuers whose tokens this resource accepts. */
  authorization_servers?: string[];
  scopes_supported?: string[];
  /** Default `["header"]`: the token goes in the Authorization header only. */
  bearer_methods_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
  jwks_uri?: string;
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  [field: string]: unknown;
}

/**
 * The RFC 9728 §3.1 metadata URL of a resource: the well-known segment inserted between the origin and the
 * path (`https://api.example.com/mcp` → `https://api.example.com/.well-known/oauth-protected-resource/mcp`).
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** The route path (no origin) to serve a resource's metadata at, for `app.get(path, handler)`. */
export function protectedResourceMetadataPath(resource: string): string {
  return new URL(protectedResourceMetadataUrl(resource)).pathname;
}

/** Metadata for a resource protected by an AgentAuth issuer. */
export function protectedResourceMetadata(options: {
  resource: string;
  issuer: string | string[];
  scopesSupported?: string[];
  resourceName?: string;
  resourceDocumentation?: string;
  /** Tokens for this resource must be DPoP-bound (`dpop_bound_access_tokens_required`). */
  dpopRequired?: boolean;
  extra?: Record<string, unknown>;
}): ProtectedResourceMetadata {
  const metadata: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: (Array.isArray(options.issuer) ? options.issuer : [options.issuer]).map((i) =>
      i.replace(/\/+$/, ''),
    ),
    bearer_methods_supported: ['header'],
    // The kit's verifier checks DPoP proofs of bound tokens with these algorithms.
    dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
  };
  if (options.dpopRequired) metadata.dpop_bound_access_tokens_required = true;
  if (options.scopesSupported) metadata.scopes_supported = options.scopesSupported;
  if (options.resourceName) metadata.resource_name = options.resourceName;
  if (options.resourceDocumentation) metadata.resource_documentation = options.resourceDocumentation;
  return { ...metadata, ...options.extra };
}

/** The parts of a Node/Express response the handlers use. */
export interface MinimalResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** A request handler (Express, or `node:http`) answering GET with the metadata as JSON. */
export function protectedResourceMetadataHandler(metadata: ProtectedResourceMetadata) {
  const body = JSON.stringify(metadata);
  return (_req: unknown, res: MinimalResponse): void => {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.end(body);
  };
}
