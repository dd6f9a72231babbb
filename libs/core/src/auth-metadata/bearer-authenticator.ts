import type { Request } from 'express';
import type { Principal } from './principal';

/** The authorization scheme an access token came with. */
export type AccessTokenScheme = 'Bearer' | 'DPoP';

/**
 * Turns the access token of an `Authorization: Bearer …` (or `DPoP …`, RFC 9449) header into a Principal,
 * or throws an UnauthorizedProblem. Provided by the context that owns token verification (libs/auth), which
 * also checks the DPoP proof of a DPoP-bound token.
 */
export interface BearerAuthenticator {
  authenticate(token: string, req: Request, scheme?: AccessTokenScheme): Promise<Principal>;
}

export const BEARER_AUTHENTICATOR = Symbol('BEARER_AUTHENTICATOR');
