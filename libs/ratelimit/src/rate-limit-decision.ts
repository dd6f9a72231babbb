/** One bucket's share of a rate-limit check. */
export interface RateLimitSpec {
  bucket: string;
  limit: number;
  windowMs: number;
  /**
   * `consume` (default) counts this request when every bucket of the check has room; `check` only asks
   * whether there is room (the token endpoint: failed client authentication is counted afterwards).
   */
  mode?: 'consume' | 'check';
}

/** The answer for one bucket, shaped for the RateLimit-* headers. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests still possible in the current window (0 when limited). */
  remaining: number;
  /** Until the oldest counted request ages out, i.e. until `remaining` grows again (0: nothing counted). */
  resetMs: number;
  /** 0 when allowed; else until a request will be allowed again. */
  retryAfterMs: number;
}

export interface RateLimitResult extends RateLimitDecision {
  bucket: string;
  /** True when Redis could not be asked and the limiter failed open (the numbers are not real). */
  failedOpen?: boolean;
  /** How many requests the check counted in this bucket (more than one when it took a quota lease). */
  granted?: number;
}

/** The outcome of one check over one or more buckets (all-or-nothing: a request counts in all or none). */
export interface RateLimitOutcome {
  allowed: boolean;
  /** The bucket the headers describe: the rejecting one, else the one with the least room left. */
  decisive: RateLimitResult;
  results: RateLimitResult[];
  /** True on the first rejection of a bucket within its window (audited once, not per request). */
  firstRejection: boolean;
  failedOpen: boolean;
}

/**
 * Decodes the sliding-window script's reply `[blocked, first, count1, resetAt1, granted1, count2, …]`
 * (`blocked` is the 1-based index of the rejecting bucket or 0; `resetAt` an absolute ms time or 0;
 * `granted` how many requests the call counted in the bucket).
 */
export function decodeScriptReply(
  reply: unknown,
  specs: readonly RateLimitSpec[],
  nowMs: number,
): RateLimitOutcome {
  if (!Array.isArray(reply) || reply.length !== 2 + 3 * specs.length) {
    throw new Error('unexpected reply from the rate-limit script');
  }
  const numbers = reply.map((v) => Number(v));
  if (numbers.some((n) => !Number.isFinite(n)))
    throw new Error('unexpected reply from the rate-limit script');
  const [blocked, first] = numbers;
  const results = specs.map((spec, i): RateLimitResult => {
    const count = numbers[2 + 3 * i];
    const resetAt = numbers[3 + 3 * i];
    const resetMs = resetAt > 0 ? Math.max(0, resetAt - nowMs) : 0;
    const rejecting = blocked === i + 1;
    return {
      bucket: spec.bucket,
      allowed: !rejecting,
      limit: spec.limit,
      remaining: Math.max(0, spec.limit - count),
      resetMs,
      retryAfterMs: rejecting ? Math.max(1, resetMs) : 0,
      granted: numbers[4 + 3 * i],
    };
  });
  const decisive = blocked > 0 ? results[blocked - 1] : leastRoom(results);
  return {
    allowed: blocked === 0,
    decisive,
    results,
    firstRejection: blocked > 0 && first === 1,
    failedOpen: false,
  };
}

/** The bucket closest to its limit (ties: the one that recovers last). */
export function leastRoom(results: readonly RateLimitResult[]): RateLimitResult {
  return results.reduce((best, r) =>
    r.remaining < best.remaining || (r.remaining === best.remaining && r.resetMs > best.resetMs) ? r : best,
  );
}

/** Whole seconds, rounded up, for headers that count seconds. */
export function ceilSeconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/**
 * The headers of draft-ietf-httpapi-ratelimit-headers (`RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset` in delta-seconds) on every limited route, plus `Retry-After` (integer seconds ≥ 1,
 * RFC 9110 §10.2.3) when the request is refused.
 */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(decision.remaining),
    'RateLimit-Reset': String(ceilSeconds(decision.resetMs)),
  };
  if (!decision.allowed) {
    const retryAfter = Math.max(1, ceilSeconds(decision.retryAfterMs));
    headers['Retry-After'] = String(retryAfter);
    headers['RateLimit-Reset'] = String(Math.max(retryAfter, ceilSeconds(decision.resetMs)));
  }
  return headers;
}

/** What a fail-open check reports: allowed, no real numbers (the guard then sends no RateLimit headers). */
export function failedOpenOutcome(specs: readonly RateLimitSpec[]): RateLimitOutcome {
  const results = specs.map((spec): RateLimitResult => ({
    bucket: spec.bucket,
    allowed: true,
    limit: spec.limit,
    remaining: spec.limit,
    resetMs: 0,
    retryAfterMs: 0,
    failedOpen: true,
  }));
  return { allowed: true, decisive: results[0], results, firstRejection: false, failedOpen: true };
}
