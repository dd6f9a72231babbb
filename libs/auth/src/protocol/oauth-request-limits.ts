import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  type AuthenticationRefusal,
  REFUSAL_AUDIT,
  REFUSAL_THROTTLE,
  type RefusalAudit,
  type RefusalSite,
  type RefusalThrottle,
} from '@agentauth/core';
import { RateLimitedError, RateLimiterService } from '@agentauth/ratelimit';

/**
 * The OAuth endpoints' share of CONTRACT §7 (issue 17, findings 1, 5, 6). These routes are `@Public`: the
 * rate-limit guard only checks that the client IP has room, and the endpoint itself decides what counts.
 * - Every request refused before its client is authenticated (malformed body, missing or unknown grant
 *   type, bad client, forged Bearer at introspection) is one request of the IP's bucket — counted through
 *   the authentication guard's own `RefusalThrottle`, BEFORE anything is audited: over the limit it throws
 *   the 429 and the caller writes no row (the limiter writes one `rate_limit.exceeded` per window).
 * - A refused Bearer token at introspection is counted AND audited by the guard's two ports, so it is
 *   exactly what a forged token at any management route is (`client_auth.failed`, reason `invalid_token`).
 * - Once a client is authenticated, its call is one request of its agent's bucket, like any other call
 *   (so a throttled agent cannot mint tokens without limit; a bad client only ever spends the IP's budget).
 */
/** The refusal site of a request: Express links the response to it (`req.res`), for the RateLimit-* headers. */
function siteOf(req: Request): RefusalSite {
  return { req, ...(req.res ? { res: req.res } : {}) };
}

@Injectable()
export class OAuthRequestLimits {
  constructor(
    @Inject(REFUSAL_THROTTLE) private readonly throttle: RefusalThrottle,
    @Inject(REFUSAL_AUDIT) private readonly refusals: RefusalAudit,
    private readonly limiter: RateLimiterService,
  ) {}

  /**
   * Counts a refusal before client authentication against the IP. Throws the 429 (`RateLimitedError`)
   * when the IP is over its limit: the caller then neither audits nor answers its own error.
   */
  async refusedBeforeAuthentication(req: Request, cause: string): Promise<void> {
    await this.throttle.throttle(siteOf(req), { kind: 'authentication', reason: 'invalid_client', cause });
  }

  /** A Bearer credential refused at introspection: counted and audited as the global guard does it. */
  async bearerRefused(req: Request, cause: string): Promise<void> {
    const refusal: AuthenticationRefusal = {
      kind: 'authentication',
      reason: 'invalid_token',
      cause,
      details: { endpoint: 'introspect' },
    };
    await this.throttle.throttle(siteOf(req), refusal);
    await this.refusals.record(siteOf(req), refusal);
  }

  /** One call of an authenticated client: its agent's bucket. Over the limit → 429 (RFC 6749-shaped). */
  async authenticated(
    agentId: string,
    origin: { ip: string; rootAgentId: string; requestId?: string },
  ): Promise<void> {
    const result = await this.limiter.consumeAgent(agentId, origin);
    if (result.failedOpen || result.allowed) return;
    throw new RateLimitedError(result, true);
  }
}
