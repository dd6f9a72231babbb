import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';
import { sendOAuthError, sendProblem, toProblem } from '../errors/problem-details.filter';
import { requestIdOf } from './request-context';

/**
 * JSON and form body parsers whose errors (malformed body, too large, bad charset) are answered here as
 * problem+json with stable codes, instead of travelling through Express's error path.
 */
export function bodyParsers(limitBytes: number, isOAuthPath: (path: string) => boolean): RequestHandler[] {
  const parsers = [
    json({ limit: limitBytes, type: ['application/json', 'application/*+json'] }),
    urlencoded({ limit: limitBytes, extended: false, parameterLimit: 100 }),
  ];
  return parsers.map(
    (parser) =>
      (req: Request, res: Response, next: NextFunction): void =>
        parser(req, res, (error?: unknown) => {
          if (!error) return next();
          if (isOAuthPath(req.path)) sendOAuthError(res, toProblem(error));
          else sendProblem(res, toProblem(error), requestIdOf(req));
        }),
  );
}
