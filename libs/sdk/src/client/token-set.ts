import { ProtocolError } from '../errors.js';

/** A token response (RFC 6749 §5.1, RFC 8693 §2.2.1) with the expiry as an instant. */
export interface TokenSet {
  accessToken: string;
  /** `Bearer`, or `DPoP` for a sender-constrained token: the scheme of the Authorization header. */
  tokenType: string;
  /** Milliseconds since the epoch at which the token expires (measured from when the request was sent). */
  expiresAt: number;
  /** The scopes granted, space-separated (absent when the server did not say). */
  scope?: string;
  /** Present when the grant issued one (`offline_access`, agent_delegation). */
  refreshToken?: string;
  /** RFC 8693: the type of the token a token exchange issued. */
  issuedTokenType?: string;
  /** The response as sent by the server. */
  raw: Record<string, unknown>;
}

/** Validates a token response and turns `expires_in` into an instant measured from `sentAt`. */
export function tokenSetFrom(body: unknown, sentAt: number): TokenSet {
  if (!body || typeof body !== 'object') throw new ProtocolError('token response is not a JSON object');
  const raw = body as Record<string, unknown>;
  if (typeof raw.access_token !== 'string' || raw.access_token === '') {
    throw new ProtocolError('token response has no access_token');
  }
  if (typeof raw.token_type !== 'string') throw new ProtocolError('token response has no token_type');
  const expiresIn = typeof raw.expires_in === 'number' ? raw.expires_in : Number(raw.expires_in);
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new ProtocolError('token response has no positive expires_in');
  }
  return {
    accessToken: raw.access_token,
    tokenType: raw.token_type,
    expiresAt: sentAt + expiresIn * 1000,
    scope: typeof raw.scope === 'string' ? raw.scope : undefined,
    refreshToken: typeof raw.refresh_token === 'string' ? raw.refresh_token : undefined,
    issuedTokenType: typeof raw.issued_token_type === 'string' ? raw.issued_token_type : undefined,
    raw,
  };
}

/** The Authorization scheme for a token type: `DPoP` for DPoP-bound tokens, `Bearer` otherwise (RFC 6750). */
export function authorizationScheme(tokenType: string): 'Bearer' | 'DPoP' {
  return tokenType.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
}
