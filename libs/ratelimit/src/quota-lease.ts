import type { RateLimitResult, RateLimitSpec } from './rate-limit-decision';

/**
 * Quota leases: when one bucket is busy in a process (one IP or one agent sending many requests), the
 * process counts several of its requests in one Redis call and spends them locally, instead of one script
 * round trip per request. What keeps the limit exact:
 * - the script grants at most the room left (a lease never takes the bucket past its limit), and counts the
 *   leased slots at `now + LEASE_LIFETIME_MS`, the latest moment one can be spent: a slot never ages out of
 *   the window before the request that spends it would have — no window ever admits more than the limit;
 * - a lease is only spent within its lifetime, only for the same limit and window (an override change
 *   starts a new one);
 * - slots a process leased but did not spend stay counted until they age out: the bucket may refuse a
 *   request somewhat early (at most one lease per process: ≤ 1 % of the limit each, never more than
 *   LEASE_MAX_SLOTS), never late. Near the limit leases stop (one request per call again).
 * A refused bucket is refused locally until its Retry-After: every process's requests only add to the
 * log, so no request can fit before then (a flood from one client costs no Redis call per request).
 *
 * Only buckets whose limit allows a lease of two or more (≥ 200 per window) lease; the lease grows with
 * the bucket's rate in this process (doubled each time one is spent before it expires, halved when one
 * expires unspent) so a quiet client leases nothing.
 */
export const LEASE_LIFETIME_MS = 500;
export const LEASE_MAX_SLOTS = 64;
/** A lease is at most this share of the limit (1 / 100): what one process may hold unspent. */
export const LEASE_LIMIT_DIVISOR = 100;
/** Leases stop when less than this many leases' worth of room is left (precision near the limit). */
const LEASE_HEADROOM = 4;
/** Buckets whose lease state a process keeps (oldest dropped first): bounds memory under many clients. */
export const LEASE_MAX_BUCKETS = 10_000;

/** The most a lease of this limit may hold (0 or 1: this bucket does not lease). */
export function leaseCap(limit: number): number {
  return Math.min(LEASE_MAX_SLOTS, Math.floor(limit / LEASE_LIMIT_DIVISOR));
}

/** Whether a check may be served from leases: one bucket, counted, with a limit that leases. */
export function leasable(specs: readonly RateLimitSpec[]): boolean {
  return specs.length === 1 && specs[0].mode !== 'check' && leaseCap(specs[0].limit) >= 2;
}

interface BucketLease {
  limit: number;
  windowMs: number;
  /** Leased slots not spent yet. */
  slots: number;
  takenAt: number;
  expiresAt: number;
  /** The bucket's count in Redis right after the lease was taken (every leased slot included). */
  counted: number;
  /** When (absolute ms) the bucket's oldest counted request ages out, from the same reply. */
  resetAt: number;
  /** How many slots the next call asks for. */
  nextAsk: number;
  /** Refused locally until then (absolute ms); 0 when the bucket had room. */
  refusedUntil: number;
}

/** One process's leases (RateLimiterService keeps one; pure bookkeeping, the Clock's time passed in). */
export class QuotaLeases {
  private readonly buckets = new Map<string, BucketLease>();
  /** A lease being taken, per bucket: concurrent requests wait for it instead of asking Redis too. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  /** Spends one leased slot, or answers a refusal still in force; undefined when Redis must be asked. */
  spend(spec: RateLimitSpec, now: number): RateLimitResult | undefined {
    const lease = this.current(spec, now);
    if (!lease) return undefined;
    if (lease.refusedUntil > now) {
      const waitMs = lease.refusedUntil - now;
      return {
        bucket: spec.bucket,
        allowed: false,
        limit: spec.limit,
        remaining: 0,
        resetMs: waitMs,
        retryAfterMs: waitMs,
      };
    }
    if (lease.slots === 0 || now >= lease.expiresAt) return undefined;
    lease.slots--;
    return {
      bucket: spec.bucket,
      allowed: true,
      limit: spec.limit,
      remaining: Math.max(0, spec.limit - lease.counted + lease.slots),
      resetMs: Math.min(spec.windowMs, Math.max(0, lease.resetAt - now)),
      retryAfterMs: 0,
    };
  }

  /** How many slots the next script call for this bucket should count (1 = no lease). */
  ask(spec: RateLimitSpec, now: number): number {
    const cap = leaseCap(spec.limit);
    const lease = this.current(spec, now);
    if (cap < 2 || !lease) return 1;
    if (spec.limit - lease.counted < LEASE_HEADROOM * cap) return 1;
    const spentInTime = lease.slots === 0 && now < lease.expiresAt;
    const ask = spentInTime ? lease.nextAsk * 2 : Math.floor(lease.nextAsk / 2);
    return Math.min(cap, Math.max(1, ask));
  }

  /**
   * Records a script answer for a leasable bucket: the request took one slot, the rest is the lease.
   * Returns the request's own answer, reported as if only it had been counted (its RateLimit-* headers).
   */
  record(spec: RateLimitSpec, result: RateLimitResult, asked: number, now: number): RateLimitResult {
    const granted = result.allowed ? Math.max(1, result.granted ?? 1) : 0;
    this.buckets.delete(spec.bucket); // re-inserted last: the map's order is the eviction order
    if (this.buckets.size >= LEASE_MAX_BUCKETS) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    this.buckets.set(spec.bucket, {
      limit: spec.limit,
      windowMs: spec.windowMs,
      slots: granted > 1 ? granted - 1 : 0,
      takenAt: now,
      expiresAt: now + LEASE_LIFETIME_MS,
      counted: spec.limit - result.remaining,
      resetAt: now + result.resetMs,
      nextAsk: Math.max(1, asked),
      refusedUntil: result.allowed ? 0 : now + result.retryAfterMs,
    });
    if (granted <= 1) return result;
    return {
      ...result,
      remaining: Math.min(spec.limit, result.remaining + granted - 1),
      resetMs: Math.min(spec.windowMs, result.resetMs),
    };
  }

  /** The lease being taken for `bucket`, if any. */
  pending(bucket: string): Promise<unknown> | undefined {
    return this.inflight.get(bucket);
  }

  /** Marks `taking` as the lease being taken for `bucket` until it settles. */
  taking<T>(bucket: string, taking: Promise<T>): Promise<T> {
    const settled = taking.finally(() => {
      if (this.inflight.get(bucket) === settled) this.inflight.delete(bucket);
    });
    this.inflight.set(bucket, settled);
    return settled;
  }

  private current(spec: RateLimitSpec, now: number): BucketLease | undefined {
    const lease = this.buckets.get(spec.bucket);
    if (!lease) return undefined;
    // Another limit or window (an override changed), or a clock set back: that state says nothing now.
    if (lease.limit !== spec.limit || lease.windowMs !== spec.windowMs || now < lease.takenAt) {
      this.buckets.delete(spec.bucket);
      return undefined;
    }
    return lease;
  }
}
