import { Injectable } from '@nestjs/common';
import {
  ClientIpResolver,
  type GuardRefusal,
  type RefusalSite,
  type RefusalThrottle,
  requestIdOf,
} from '@agentauth/core';
import { rateLimitHeaders } from './rate-limit-decision';
import { RateLimitedError } from './rate-limited.error';
import { RateLimiterService } from './rate-limiter.service';

/**
 * The authentication guard's `RefusalThrottle` (CONTRACT §7 "per IP for unauthenticated calls and failed
 * client auth"). The AuthGuard refuses before the rate-limit guard runs, so it hands its refusals here:
 * - a failed authentication (no/forged/dead Bearer token, missing/wrong X-Admin-Key) is one request of the
 *   client IP's bucket (`RATE_LIMIT_IP_PER_MINUTE`, shared with unauthenticated calls and failed client
 *   authentication at the token endpoint);
 * - an authorization refusal (403 insufficient_scope) is one request of the agent's bucket, as it would have
 *   been had it reached the rate-limit guard.
 * One script call (one Redis round trip) per refusal. Over the limit: 429 with Retry-After and RateLimit-*
 * (the limiter audits the first rejection of the window; the refusal itself is then not audited). Under it:
 * the informational headers go on the 401/403. Redis down: fails open like every check.
 */
@Injectable()
export class GuardRefusalThrottle implements RefusalThrottle {
  constructor(
    private readonly limiter: RateLimiterService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  async throttle({ req, res }: RefusalSite, refusal: GuardRefusal): Promise<void> {
    const ip = this.clientIp.resolve(req);
    const requestId = requestIdOf(req);
    const result =
      refusal.kind === 'authentication'
        ? await this.limiter.recordFailedClientAuth(ip, { requestId })
        : await this.limiter.consumeAgent(refusal.principal.actorAgentId, {
            ip,
            rootAgentId: refusal.principal.rootAgentId,
            requestId,
          });
    if (result.failedOpen) return;
    if (!result.allowed) throw new RateLimitedError(result);
    if (!res) return;
    for (const [name, value] of Object.entries(rateLimitHeaders(result))) res.setHeader(name, value);
  }
}
