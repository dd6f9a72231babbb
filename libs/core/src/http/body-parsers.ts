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

/** type-is's `hasBody`, which body-parser asks first: a Transfer-Encoding, or a numeric Content-Length (even 0). */
function hasBody(req: Request): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined ||
    // Global isNaN on purpose: it coerces the header (a string, or undefined) exactly as type-is does.
    !isNaN(req.headers['content-length'] as unknown as number)
  );
}

/**
 * JSON and form body parsing (one middleware) whose errors (malformed body, too large, bad charset) are answered here as
 * problem+json with stable codes, instead of travelling through Express's error path.
 */
export function bodyParsers(limitBytes: number, isOAuthPath: (path: string) => boolean): RequestHandler[] {
  const parsers = [
    json({ limit: limitBytes, type: ['application/json', 'application/*+json'] }),
    urlencoded({ limit: limitBytes, extended: false, parameterLimit: 100 }),
  ];
  const [parseJson, parseForm] = parsers.map(
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
  // One middleware, not two, and nothing at all for a request without a body (every GET): the parsers
  // would each only find that out themselves, one router layer apiece (docs/performance.md, "Cost ledger").
  // "Has a body" is body-parser's own test (type-is: a Transfer-Encoding, or any Content-Length, even 0).
  return [
    (req: Request, res: Response, next: NextFunction): void => {
      if (!hasBody(req)) {
        if (!('body' in req)) (req as { body?: unknown }).body = undefined; // as body-parser leaves it
        return next();
      }
      parseJson(req, res, () => parseForm(req, res, next));
    },
  ];
}
