import { InvalidRequestError } from './oauth-errors';

/** The parameters of an OAuth request body, as strings (`protocol/token-request.ts` parses them). */
export type OAuthParams = Record<string, string>;

/** A parameter the request must carry: absent or empty is `invalid_request` (RFC 6749 §5.2). */
export function requireParam(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '')
    throw new InvalidRequestError(`The parameter "${name}" is required`);
  return value;
}
