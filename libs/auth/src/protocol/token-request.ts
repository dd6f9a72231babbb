import type { Request } from 'express';
import { InvalidRequestError, InvalidTargetError } from '../vocabulary/oauth-errors';

const MAX_PARAM_LENGTH = 8192;

/**
 * The parameters of an OAuth request body (form or JSON) as strings. RFC 6749 §3.2: parameters must not be
 * repeated; values that are not strings (JSON numbers, objects, arrays) are refused.
 */
export function oauthParams(req: Request): Record<string, string> {
  const body: unknown = req.body;
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0))
    return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new InvalidRequestError('The request body must be an object');
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    // One resource per request in this version (CONTRACT §8): several are `invalid_target` (RFC 8707 §2).
    if (Array.isArray(value) && (name === 'resource' || name === 'audience'))
      throw new InvalidTargetError('One resource per token request');
    if (Array.isArray(value))
      throw new InvalidRequestError(`The parameter "${name.slice(0, 64)}" is repeated`);
    if (typeof value !== 'string')
      throw new InvalidRequestError(`The parameter "${name.slice(0, 64)}" must be a string`);
    if (value.length > MAX_PARAM_LENGTH)
      throw new InvalidRequestError(`The parameter "${name.slice(0, 64)}" is too long`);
    params[name] = value;
  }
  return params;
}
