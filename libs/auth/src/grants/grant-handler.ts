import type { Request } from 'express';

/** What every grant receives: the parsed body, the request (client auth headers, IP) and its id. */
export interface TokenRequestContext {
  params: Record<string, string>;
  req: Request;
  ip: string;
  requestId?: string;
}

/** RFC 6749 §5.1 (and RFC 8693 §2.2) successful token response. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer' | 'N_A';
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
  handle(context: TokenRequestContext): Promise<TokenResponse>;
}
