import { RateLimit } from '@agentauth/ratelimit';

describe('@RateLimit', () => {
  it('needs exactly one of perMinute / perHour', () => {
    expect(() => RateLimit({ bucket: 'x' })).toThrow(/exactly one/);
    expect(() => RateLimit({ bucket: 'x', perMinute: 1, perHour: 1 })).toThrow(/exactly one/);
    expect(() => RateLimit({ bucket: 'x', perHour: (c) => c.bootstrapRateLimitPerHour })).not.toThrow();
  });
});
