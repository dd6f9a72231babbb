import {
  ceilSeconds,
  decodeScriptReply,
  failedOpenOutcome,
  oauthRateLimitBody,
  rateLimitHeaders,
  RateLimitedError,
  type RateLimitSpec,
} from '@agentauth/ratelimit';

const NOW = 1_800_000_000_000;
const agent: RateLimitSpec = { bucket: 'agent:a', limit: 5, windowMs: 60_000 };
const bootstrap: RateLimitSpec = { bucket: 'bootstrap:ip:1.2.3.4', limit: 2, windowMs: 3_600_000 };

describe('rate-limit decisions and headers', () => {
  it('decodes an allowed reply: remaining and reset of the bucket with the least room', () => {
    const outcome = decodeScriptReply(
      [0, 0, 3, NOW + 45_000, 1, 2, NOW + 3_000_000, 1],
      [agent, bootstrap],
      NOW,
    );
    expect(outcome.allowed).toBe(true);
    expect(outcome.firstRejection).toBe(false);
    expect(outcome.results.map((r) => r.remaining)).toEqual([2, 0]);
    expect(outcome.decisive).toMatchObject({
      bucket: 'bootstrap:ip:1.2.3.4',
      allowed: true,
      remaining: 0,
      resetMs: 3_000_000,
      retryAfterMs: 0,
    });
  });

  it('decodes a refusal: the rejecting bucket decides, retry after its reset', () => {
    const outcome = decodeScriptReply([2, 1, 1, NOW + 59_000, 0, 2, NOW + 1_234, 0], [agent, bootstrap], NOW);
    expect(outcome.allowed).toBe(false);
    expect(outcome.firstRejection).toBe(true);
    expect(outcome.decisive).toMatchObject({
      bucket: 'bootstrap:ip:1.2.3.4',
      allowed: false,
      remaining: 0,
      resetMs: 1_234,
      retryAfterMs: 1_234,
    });
    expect(outcome.results[0].allowed).toBe(true);
  });

  it('never reports a negative remaining (a limit lowered below the current count)', () => {
    const outcome = decodeScriptReply([1, 0, 9, NOW + 10, 0], [agent], NOW);
    expect(outcome.decisive.remaining).toBe(0);
    expect(outcome.decisive.retryAfterMs).toBe(10);
  });

  it('rejects malformed replies', () => {
    expect(() => decodeScriptReply([0, 0], [agent], NOW)).toThrow();
    expect(() => decodeScriptReply([0, 0, 1, NOW], [agent], NOW)).toThrow();
    expect(() => decodeScriptReply('OK', [agent], NOW)).toThrow();
    expect(() => decodeScriptReply([0, 0, 'x', 1, 1], [agent], NOW)).toThrow();
  });

  it('computes RateLimit-* on success and Retry-After (integer seconds ≥ 1) on refusal', () => {
    expect(
      rateLimitHeaders({ allowed: true, limit: 600, remaining: 599, resetMs: 59_999, retryAfterMs: 0 }),
    ).toEqual({
      'RateLimit-Limit': '600',
      'RateLimit-Remaining': '599',
      'RateLimit-Reset': '60',
    });
    expect(rateLimitHeaders({ allowed: false, limit: 5, remaining: 0, resetMs: 1, retryAfterMs: 1 })).toEqual(
      {
        'RateLimit-Limit': '5',
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': '1',
        'Retry-After': '1',
      },
    );
    expect(
      rateLimitHeaders({ allowed: false, limit: 5, remaining: 0, resetMs: 0, retryAfterMs: 0 })[
        'Retry-After'
      ],
    ).toBe('1');
    expect(
      rateLimitHeaders({ allowed: false, limit: 5, remaining: 0, resetMs: 9_001, retryAfterMs: 9_001 })[
        'Retry-After'
      ],
    ).toBe('10');
    expect(ceilSeconds(0)).toBe(0);
    expect(ceilSeconds(-5)).toBe(0);
    expect(ceilSeconds(1000)).toBe(1);
    expect(ceilSeconds(1001)).toBe(2);
  });

  it('fails open without real numbers', () => {
    const outcome = failedOpenOutcome([agent]);
    expect(outcome).toMatchObject({
      allowed: true,
      failedOpen: true,
      decisive: { failedOpen: true, remaining: 5 },
    });
  });

  it('renders a refusal as problem+json data and as an RFC 6749 body', () => {
    const error = new RateLimitedError(
      { bucket: 'ip:1.2.3.4', allowed: false, limit: 120, remaining: 0, resetMs: 2_500, retryAfterMs: 2_500 },
      true,
    );
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limited');
    expect(error.extra.headers).toEqual({
      'RateLimit-Limit': '120',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '3',
      'Retry-After': '3',
    });
    expect(oauthRateLimitBody(error)).toEqual({
      status: 429,
      headers: { ...error.extra.headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: { error: 'rate_limited', error_description: 'Rate limit exceeded; retry after 3 s' },
    });
  });
});
