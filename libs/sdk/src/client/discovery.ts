import { ProtocolError } from '../errors.js';
import { type HttpContext, joinUrl, problemErrorFrom, send } from '../http.js';

/** RFC 8414 authorization server metadata, with AgentAuth's own endpoints (`/.well-known/agent-configuration`). */
export interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  scopes_supported?: string[];
  /** AgentAuth: the management API's collections (absent on other servers). */
  agents_endpoint?: string;
  delegations_endpoint?: string;
  [field: string]: unknown;
}

/** The issuer as a comparable string: no trailing slash. */
export function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

/**
 * Fetches the server's metadata: AgentAuth's `/.well-known/agent-configuration` (a superset of RFC 8414),
 * or the RFC 8414 document when the server has no such document. The `issuer` in the document must equal
 * the issuer the client was configured with (RFC 8414 §3.3), else every URL in it is untrusted.
 */
export async function discover(http: HttpContext, issuer: string): Promise<AuthorizationServerMetadata> {
  const expected = normalizeIssuer(issuer);
  let res = await send(http, joinUrl(expected, '/.well-known/agent-configuration'), { method: 'GET' });
  if (res.status === 404) {
    await res.body?.cancel().catch(() => undefined);
    res = await send(http, joinUrl(expected, '/.well-known/oauth-authorization-server'), { method: 'GET' });
  }
  if (!res.ok) throw await problemErrorFrom(res);
  const metadata = (await res.json()) as AuthorizationServerMetadata;
  if (!metadata || typeof metadata !== 'object' || typeof metadata.token_endpoint !== 'string') {
    throw new ProtocolError('discovery document has no token_endpoint');
  }
  if (typeof metadata.issuer !== 'string' || normalizeIssuer(metadata.issuer) !== expected) {
    throw new ProtocolError(
      `discovery document names issuer ${String(metadata.issuer)}, expected ${expected}`,
    );
  }
  return metadata;
}

/**
 * The management API's base URL (`<PUBLIC_BASE_URL><API_V1_PREFIX>`), from AgentAuth's discovery document:
 * the `agents_endpoint` without its last segment.
 */
export function managementBaseUrl(metadata: AuthorizationServerMetadata): string {
  if (typeof metadata.agents_endpoint !== 'string') {
    throw new ProtocolError('the discovery document names no agents_endpoint (not an AgentAuth server?)');
  }
  return metadata.agents_endpoint.replace(/\/agents\/?$/, '');
}
