import type { NextFunction, Request, Response } from 'express';
import { Problem } from '../errors/problems';
import { sendOAuthError, sendProblem } from '../errors/problem-details.filter';
import { requestIdOf } from './request-context';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * 415 for a body in a content type the route does not take. The OAuth endpoints take form and JSON;
 * everything else takes JSON only.
 */
export function contentTypeMiddleware(formPaths: (path: string) => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!BODY_METHODS.has(req.method) || !hasBody(req)) return next();
    const allowed = formPaths(req.path)
      ? ['application/json', 'application/x-www-form-urlencoded']
      : ['application/json'];
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (allowed.includes(type) || (type.endsWith('+json') && allowed.includes('application/json')))
      return next();
    const problem = new Problem(
      415,
      'unsupported_media_type',
      `Content-Type must be one of: ${allowed.join(', ')}`,
    );
    if (formPaths(req.path)) sendOAuthError(res, problem);
    else sendProblem(res, problem, requestIdOf(req));
  };
}
