import { TooManyRequestsProblem } from '@agentauth/core';
import { ceilSeconds, rateLimitHeaders, type RateLimitResult } from './rate-limit-decision';

/**
 * A refused request. It is a `TooManyRequestsProblem` (problem+json, type `…:rate_limited`, with the
 * Retry-After and RateLimit-* headers) everywhere except on the OAuth endpoints, where
 * `oauthRateLimitBody()` gives the RFC 6749-shaped answer (`clientAuthentication` is true there).
 */
export class RateLimitedError extends TooManyRequestsProblem {
  constructor(
    readonly result: RateLimitResult,
    readonly clientAuthentication = false,
  ) {
    super(
      `Rate limit exceeded; retry after ${Math.max(1, ceilSeconds(result.retryAfterMs))} s`,
      rateLimitHeaders(result),
    );
    this.name = 'RateLimitedError';
  }
}

export function isRateLimitedError(error: unknown): error is RateLimitedError {
  return error instanceof RateLimitedError;
}

/** What an OAuth endpoint answers when rate limited (RFC 6749 §5.2 shape, status 429). */
export interface OAuthRateLimitResponse {
  status: 429;
  headers: Record<string, string>;
  body: { error: 'rate_limited'; error_description: string };
}

/**
 * The OAuth error filter's mapping of a RateLimitedError: `{"error": "rate_limited", "error_description"}`
 * with 429, the same Retry-After / RateLimit-* headers, and `Cache-Control: no-store` like every token
 * endpoint response (RFC 6749 §5.1).
 */
export function oauthRateLimitBody(error: RateLimitedError): OAuthRateLimitResponse {
  return {
    status: 429,
    headers: { ...(error.extra.headers ?? {}), 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    body: { error: 'rate_limited', error_description: error.detail },
  };
}
