import type { Request, Response } from 'express';
import { rateLimitHeaders, type RateLimitOutcome } from './rate-limit-decision';
import { RateLimitedError } from './rate-limited.error';

/**
 * The IP checks the rate-limit guard started and did not wait for (`@DeferredIpCheck` routes: the token,
 * introspection and revocation endpoints), by request. The handler's first Redis reads (the presented key's
 * and token's revocation state) are issued while the check is in flight — ioredis writes them in one batch —
 * and the handler acts on nothing it read before `awaitIpCheck` has answered.
 */
const pending = new WeakMap<Request, Promise<RateLimitOutcome>>();

/** What the guard does with an IP check's outcome, now or later: 429 when refused, else the headers. */
export function enforceOutcome(
  outcome: RateLimitOutcome,
  res: Response | undefined,
  clientAuthentication: boolean,
): void {
  if (outcome.failedOpen) return;
  if (!outcome.allowed) throw new RateLimitedError(outcome.decisive, clientAuthentication);
  if (!res || res.headersSent) return;
  for (const [name, value] of Object.entries(rateLimitHeaders(outcome.decisive))) res.setHeader(name, value);
}

/** The guard: `req`'s IP check is in flight (a rejected promise is the limiter's bug: it fails the request). */
export function deferIpCheck(req: Request, check: Promise<RateLimitOutcome>): void {
  // Nobody may be waiting yet when it settles: never an unhandled rejection, `awaitIpCheck` sees the error.
  check.catch(() => undefined);
  pending.set(req, check);
}

/**
 * The gate of a `@DeferredIpCheck` handler: resolves once `req`'s IP has room (setting the RateLimit-*
 * headers), throws the RFC 6749-shaped 429 otherwise. Resolves at once on a request whose check the guard
 * already made (every other route). Call it before acting on anything: verifying a key or an assertion,
 * counting, auditing, answering.
 */
export async function awaitIpCheck(req: Request): Promise<void> {
  const check = pending.get(req);
  if (check === undefined) return;
  enforceOutcome(await check, req.res, true);
}
