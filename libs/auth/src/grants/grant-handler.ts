import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { IssuedAccessToken } from '../tokens/access-token.issuer';
import type { PresentedDpopProof } from './dpop-binding';

/**
 * What every grant receives, as plain values: the parsed body, the request's DPoP proof (validated when the
 * grant binds its tokens), its IP and id, and the client the token endpoint already authenticated (every
 * grant here requires client authentication; CONTRACT §4).
 */
export interface TokenRequestContext {
  params: Record<string, string>;
  dpop: PresentedDpopProof;
  ip: string;
  requestId?: string;
  client: AuthenticatedClient;
}

/**
 * What a grant issued. The token endpoint's pipeline (`protocol/token-endpoint.ts`) does the rest, the same
 * for every grant: it records `token.issued` (with `grant_type: auditedAs`, the client's credential, whether
 * the token is DPoP-bound, and `auditDetails`) and shapes the RFC 6749 §5.1 response.
 */
export interface GrantResult {
  token: IssuedAccessToken;
  refreshToken?: string;
  /** RFC 8693 §2.2.1 (token exchange). */
  issuedTokenType?: string;
  /** This grant's own details of the `token.issued` event (ids and counts, never a secret). */
  auditDetails: Record<string, unknown>;
}

/** RFC 6749 §5.1 (and RFC 8693 §2.2) successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'DPoP' | 'N_A';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  issued_token_type?: string;
}

/**
 * One class per `grant_type` (the token endpoint is a registry lookup, never a switch): only the grant's own
 * rule. The handlers are listed once, in `AuthModule` (`GRANT_HANDLERS`).
 */
export interface GrantHandler {
  readonly grantTypes: readonly string[];
  /** The `grant_type` of its `token.issued` events (metrics count by it). */
  readonly auditedAs: string;
  /**
   * CONTRACT §11: the grant also serves public clients, which name themselves with `client_id` alone and
   * authenticate nowhere (authorization_code with PKCE, and the refresh of what it issued).
   */
  readonly publicClients?: boolean;
  handle(context: TokenRequestContext): Promise<GrantResult>;
}
