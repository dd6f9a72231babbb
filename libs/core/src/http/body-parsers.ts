import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json, urlencoded } from 'express';
import { sendOAuthError, sendProblem, toProblem } from '../errors/problem-details.filter';
import { Problem } from '../errors/problems';
import { requestIdOf } from './request-context';

/** Deepest JSON nesting accepted: deeper bodies would overflow the stack of recursive transformers. */
export const MAX_BODY_DEPTH = 32;

/** Nesting depth of a parsed body, measured iteratively (never recursion on attacker-shaped input). */
export function exceedsDepth(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

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
          if (!error && !exceedsDepth(req.body, MAX_BODY_DEPTH)) return next();
          const problem = error
            ? toProblem(error)
            : new Problem(
                400,
                'malformed_body',
                `The request body nests deeper than ${MAX_BODY_DEPTH} levels`,
              );
          if (isOAuthPath(req.path)) sendOAuthError(res, problem);
          else sendProblem(res, problem, requestIdOf(req));
        }),
  );
}
