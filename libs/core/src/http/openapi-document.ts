import type { AppConfig } from '../config/app-config';

/** The tag of every OAuth 2.0 endpoint: token, introspection, revocation, JWKS, discovery (and authorize). */
export const OAUTH_API_TAG = 'OAuth 2.0';

/**
 * Every tag of the OpenAPI document, in the order Swagger UI shows them: the OAuth 2.0 endpoints first, then
 * the management API, then operations. A controller tag missing here fails the OpenAPI test.
 */
export const OPENAPI_TAGS: readonly { name: string; description: string }[] = [
  {
    name: OAUTH_API_TAG,
    description:
      'Token endpoint (every grant), introspection, revocation, signing keys, discovery and protected-resource metadata',
  },
  { name: 'agents', description: 'The agent hierarchy; bootstrap of a root agent' },
  { name: 'credentials', description: 'API keys and public keys: issue (a key shown once), rotate, revoke' },
  { name: 'delegations', description: 'Delegation chains and their delegation tokens' },
  { name: 'scopes', description: 'Built-in and custom scopes' },
  { name: 'policies', description: 'Allow/deny policies and their evaluation' },
  {
    name: 'resource-servers',
    description: 'The APIs that accept tokens for their identifier (RFC 8707 audiences)',
  },
  { name: 'webhooks', description: 'Signed security-event subscriptions' },
  {
    name: 'admin',
    description: 'Operators (X-Admin-Key): statistics, audit trail, audit chain verification',
  },
  { name: 'health', description: 'Index, liveness and readiness' },
  { name: 'observability', description: 'Prometheus metrics' },
];

/** The document's description: what this is, and the three steps from nothing to a first call. */
export function openApiDescription(config: AppConfig): string {
  const api = config.apiPrefix;
  return [
    'Identity and authentication for AI agents: OAuth 2.0 grants, agent hierarchy, API keys, policies, delegations and audit.',
    '',
    '**Getting started**',
    `1. \`POST ${api}/agents/bootstrap\` with \`{"name": "my-root"}\` creates a root agent and returns its first API key (shown once).`,
    `2. \`POST ${api}/auth/token\` with \`grant_type=client_credentials\` and HTTP Basic \`<agent id>:<API key>\` returns an access token.`,
    '3. Click **Authorize**, paste the access token under `bearer`, and call the management API. ' +
      'The operator endpoints (`/stats`, `/audit/…`) take the `X-Admin-Key` header instead (`ADMIN_API_KEY`).',
    '',
    'An API key is a client secret, never a Bearer token. The README walks through every step with curl.',
  ].join('\n');
}
