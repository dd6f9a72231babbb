import { readFileSync } from 'node:fs';

/** A stand-in of the discovery document's size (~1.3 kB) for when no body file is given. */
export function discoveryLikeBody(base = 'http://127.0.0.1:8300'): Record<string, unknown> {
  const api = `${base}/api/v1`;
  const algs = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
  const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
  return {
    issuer: base,
    token_endpoint: `${api}/auth/token`,
    jwks_uri: `${api}/auth/jwks`,
    introspection_endpoint: `${api}/auth/token/introspect`,
    revocation_endpoint: `${api}/auth/token/revoke`,
    grant_types_supported: [
      'client_credentials',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    token_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    token_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    dpop_signing_alg_values_supported: algs,
    scopes_supported: [
      'agents:read',
      'agents:write',
      'credentials:read',
      'credentials:write',
      'tokens:introspect',
      'tokens:revoke',
      'policies:read',
      'policies:write',
      'delegations:write',
      'audit:read',
    ],
    response_types_supported: [],
    service_documentation: `${base}/docs`,
  };
}

export function loadBody(): unknown {
  const file = process.env.FLOOR_BODY_FILE;
  return file ? JSON.parse(readFileSync(file, 'utf8')) : discoveryLikeBody();
}
