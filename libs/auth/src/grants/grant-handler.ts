import type { Request } from 'express';
import type { AuthenticatedClient } from '../clients/authenticated-client';

/**
 * What every grant receives: the parsed body, the request, its IP and id, and the client the token
 * endpoint already authenticated (every grant here requires client authentication; CONTRACT §4).
 */
export interface TokenRequestContext {
  params: Record<string, string>;
  req: Request;
  ip: string;
  requestId?: string;
  client: AuthenticatedClient;
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
 * One class per `grant_type` (the token endpoint is a registry lookup, never a switch). Handlers register
 * themselves with the GrantRegistry in `onModuleInit`.
 */
export interface GrantHandler {
  readonly grantTypes: readonly string[];
  /**
   * CONTRACT §11: the grant also serves public clients, which name themselves with `client_id` alone and
   * authenticate nowhere (authorization_code with PKCE, and the refresh of what it issued).
   */
  readonly publicClients?: boolean;
  handle(context: TokenRequestContext): Promise<TokenResponse>;
}
