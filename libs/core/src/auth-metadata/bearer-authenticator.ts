import type { Request } from 'express';
import type { Principal } from './principal';

/**
 * Turns the credential of an `Authorization: Bearer …` header into a Principal, or throws an
 * UnauthorizedProblem. Provided by the context that owns token verification (libs/auth).
 */
export interface BearerAuthenticator {
  authenticate(bearer: string, req: Request): Promise<Principal>;
}

export const BEARER_AUTHENTICATOR = Symbol('BEARER_AUTHENTICATOR');
