import {
  LEASE_LIFETIME_MS,
  LEASE_MAX_BUCKETS,
  LEASE_MAX_SLOTS,
  leasable,
  leaseCap,
  QuotaLeases,
} from '../../../libs/ratelimit/src/quota-lease';
import type { RateLimitResult, RateLimitSpec } from '../../../libs/ratelimit/src/rate-limit-decision';

const NOW = 1_800_000_000_000;
const spec: RateLimitSpec = { bucket: 'ip:203.0.113.7', limit: 100_000, windowMs: 60_000 };

/** What the script answers for a check that counted `granted` requests, the bucket then holding `count`. */
function answer(s: RateLimitSpec, count: number, granted: number, resetMs = 60_000): RateLimitResult {
  return {
    bucket: s.bucket,
    allowed: true,
    limit: s.limit,
    remaining: s.limit - count,
    resetMs,
    retryAfterMs: 0,
    granted,
  };
}

/** Quota leases: how many slots a process asks for, and what it may answer without Redis (quota-lease.ts). */
describe('QuotaLeases', () => {
  it('leases only buckets with room for a lease of two (limit ≥ 200), at most 1 % of the limit and 64', () => {
    expect(leaseCap(120)).toBe(1);
    expect(leaseCap(199)).toBe(1);
    expect(leaseCap(200)).toBe(2);
    expect(leaseCap(1_000)).toBe(10);
    expect(leaseCap(10_000_000)).toBe(LEASE_MAX_SLOTS);
    expect(leasable([{ ...spec, limit: 120 }])).toBe(false);
    expect(leasable([spec])).toBe(true);
    expect(leasable([{ ...spec, mode: 'check' }])).toBe(false);
    expect(leasable([spec, { ...spec, bucket: 'agent:x' }])).toBe(false);
  });

  it('asks for one request until the bucket is busy, then doubles while leases are spent in time', () => {
    const leases = new QuotaLeases();
    expect(leases.ask(spec, NOW)).toBe(1);
    expect(leases.spend(spec, NOW)).toBeUndefined();
    leases.record(spec, answer(spec, 1, 1), 1, NOW);
    expect(leases.spend(spec, NOW + 1)).toBeUndefined(); // nothing leased: the request used its one slot
    const asks: number[] = [];
    let count = 1;
    for (let t = NOW + 1; asks.length < 8; t += 1) {
      const ask = leases.ask(spec, t);
      asks.push(ask);
      count += ask;
      leases.record(spec, answer(spec, count, ask), ask, t);
      for (let i = 1; i < ask; i++) expect(leases.spend(spec, t)?.allowed).toBe(true);
      expect(leases.spend(spec, t)).toBeUndefined();
    }
    expect(asks).toEqual([2, 4, 8, 16, 32, 64, 64, 64]);
  });

  it('halves the ask when a lease expires unspent, back to one request for a quiet client', () => {
    const leases = new QuotaLeases();
    leases.record(spec, answer(spec, 64, 64), 64, NOW);
    expect(leases.ask(spec, NOW + LEASE_LIFETIME_MS)).toBe(32);
    leases.record(spec, answer(spec, 65, 1), 1, NOW + LEASE_LIFETIME_MS);
    expect(leases.ask(spec, NOW + 10 * LEASE_LIFETIME_MS)).toBe(1);
  });

  it('spends a lease only within its lifetime, and reports the bucket as if each request had been counted', () => {
    const leases = new QuotaLeases();
    leases.record(spec, answer(spec, 40, 4, 59_000), 4, NOW); // 36 before, this request + 3 leased
    const first = leases.spend(spec, NOW + 10);
    expect(first).toMatchObject({ allowed: true, limit: 100_000, remaining: 100_000 - 38, retryAfterMs: 0 });
    expect(first?.resetMs).toBe(58_990);
    expect(leases.spend(spec, NOW + 20)?.remaining).toBe(100_000 - 39);
    expect(leases.spend(spec, NOW + LEASE_LIFETIME_MS)).toBeUndefined(); // expired: one slot left unspent
  });

  it('never reports a reset beyond the window (leased slots are counted ahead of now)', () => {
    const leases = new QuotaLeases();
    leases.record(spec, answer(spec, 10, 10, 60_000 + LEASE_LIFETIME_MS), 10, NOW);
    expect(leases.spend(spec, NOW)?.resetMs).toBe(60_000);
  });

  it('stops leasing near the limit, so the last requests are counted one by one', () => {
    const small: RateLimitSpec = { ...spec, limit: 1_000 }; // cap 10: leases stop with < 40 left
    const leases = new QuotaLeases();
    leases.record(small, answer(small, 900, 8), 8, NOW);
    for (let i = 0; i < 7; i++) leases.spend(small, NOW);
    expect(leases.ask(small, NOW + 1)).toBe(10);
    leases.record(small, answer(small, 961, 10), 10, NOW + 1);
    for (let i = 0; i < 9; i++) leases.spend(small, NOW + 1);
    expect(leases.ask(small, NOW + 2)).toBe(1);
  });

  it('answers a refusal locally until its Retry-After, then asks Redis again', () => {
    const leases = new QuotaLeases();
    const refused: RateLimitResult = {
      bucket: spec.bucket,
      allowed: false,
      limit: spec.limit,
      remaining: 0,
      resetMs: 1_500,
      retryAfterMs: 1_500,
      granted: 0,
    };
    leases.record(spec, refused, 8, NOW);
    expect(leases.spend(spec, NOW + 1_000)).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterMs: 500,
    });
    expect(leases.spend(spec, NOW + 1_500)).toBeUndefined();
    expect(leases.ask(spec, NOW + 1_500)).toBe(1); // no room left: no lease
  });

  it('forgets a lease taken for another limit (an override changed) or before a clock set back', () => {
    const leases = new QuotaLeases();
    leases.record(spec, answer(spec, 10, 10), 10, NOW);
    expect(leases.spend({ ...spec, limit: 50_000 }, NOW)).toBeUndefined();
    expect(leases.spend(spec, NOW)).toBeUndefined(); // the lease is gone, not kept for the old limit
    leases.record(spec, answer(spec, 20, 10), 10, NOW);
    expect(leases.spend(spec, NOW - 1)).toBeUndefined();
  });

  it('keeps at most LEASE_MAX_BUCKETS buckets, dropping the oldest', () => {
    const leases = new QuotaLeases();
    const of = (i: number): RateLimitSpec => ({ ...spec, bucket: `ip:10.0.${i >> 8}.${i & 255}` });
    for (let i = 0; i <= LEASE_MAX_BUCKETS; i++) leases.record(of(i), answer(of(i), 3, 3), 3, NOW);
    expect(leases.spend(of(0), NOW)).toBeUndefined();
    expect(leases.spend(of(LEASE_MAX_BUCKETS), NOW)?.allowed).toBe(true);
  });

  it('lets one lease be taken at a time per bucket', async () => {
    const leases = new QuotaLeases();
    let release!: () => void;
    const taking = leases.taking(spec.bucket, new Promise<void>((resolve) => (release = resolve)));
    expect(leases.pending(spec.bucket)).toBe(taking);
    release();
    await taking;
    expect(leases.pending(spec.bucket)).toBeUndefined();
  });
});
