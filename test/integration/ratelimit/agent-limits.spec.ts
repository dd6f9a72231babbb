import { createHash, randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Clock, REDIS } from '@agentauth/core';
import {
  bucketKeys,
  ipBucket,
  RATE_LIMIT_OVERRIDES,
  RateLimiterService,
  type RateLimitRejection,
  SLIDING_WINDOW_LUA,
} from '@agentauth/ratelimit';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { RateLimitProbeModule, TestBearerAuthenticator } from '../../support/ratelimit-probe.controller';
import { BEARER_AUTHENTICATOR } from '@agentauth/core';

const AGENT_ROUTE = '/api/v1/ratelimit-probe/agent';
const LIMIT = 5;
const ENV = { RATE_LIMIT_AGENT_PER_MINUTE: String(LIMIT), RATE_LIMIT_IP_PER_MINUTE: '50' };
const OVERRIDDEN_AGENT = randomUUID();
const PROBE = {
  extraModules: [RateLimitProbeModule],
  overrideProviders: [
    { provide: BEARER_AUTHENTICATOR, useValue: new TestBearerAuthenticator() },
    {
      provide: RATE_LIMIT_OVERRIDES,
      useValue: { agentLimitPerMinute: async (id: string) => (id === OVERRIDDEN_AGENT ? 2 : undefined) },
    },
  ],
};

const call = (t: TestApp, agentId: string) =>
  request(t.http).get(AGENT_ROUTE).set('Authorization', `Bearer agent-${agentId}`);

/** The per-agent sliding window (CONTRACT §7), on two API instances sharing one Redis. */
describe('per-agent rate limits', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp(ENV, PROBE);
    b = await createTestApp(ENV, PROBE);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });
  afterEach(() => {
    a.app.get(Clock).reset();
    b.app.get(Clock).reset();
  });

  it('lets exactly the configured number through, then answers 429 with Retry-After and RateLimit-*', async () => {
    const agent = randomUUID();
    for (let i = 0; i < LIMIT; i++) {
      const ok = await call(a, agent).expect(200);
      expect(ok.headers['ratelimit-limit']).toBe(String(LIMIT));
      expect(ok.headers['ratelimit-remaining']).toBe(String(LIMIT - 1 - i));
      expect(Number(ok.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(59);
      expect(Number(ok.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
      expect(ok.headers['retry-after']).toBeUndefined();
    }
    const limited = await call(a, agent).expect(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toEqual({
      type: 'urn:agentauth:problem:rate_limited',
      title: 'Too Many Requests',
      status: 429,
      detail: expect.stringMatching(/retry after \d+ s/),
      request_id: limited.headers['x-request-id'],
    });
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-limit']).toBe(String(LIMIT));
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe(limited.headers['retry-after']);
    // another agent is not affected
    await call(a, randomUUID()).expect(200);
  });

  it('counts one window across two API instances sharing Redis', async () => {
    const agent = randomUUID();
    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const res = await call(i % 2 === 0 ? a : b, agent);
      statuses.push(res.status);
      remaining.push(res.headers['ratelimit-remaining']);
    }
    expect(statuses).toEqual(new Array(LIMIT).fill(200));
    // each instance reports the shared window: remaining counts down across both
    expect(remaining).toEqual(Array.from({ length: LIMIT }, (_, i) => String(LIMIT - 1 - i)));
    for (const instance of [a, b]) {
      const limited = await call(instance, agent).expect(429);
      expect(limited.headers['ratelimit-limit']).toBe(String(LIMIT));
      expect(limited.headers['ratelimit-remaining']).toBe('0');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(59);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers['ratelimit-reset']).toBe(limited.headers['retry-after']);
    }
  });

  it('has no read-modify-write race: of 30 concurrent requests on two instances exactly the limit pass', async () => {
    const agent = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(i % 2 === 0 ? a : b, agent)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - LIMIT);
  });

  it('slides: requests become possible again one by one as old ones age out', async () => {
    const agent = randomUUID();
    const clocks = [a.app.get(Clock), b.app.get(Clock)];
    let elapsed = 0;
    const at = (ms: number) => {
      for (const clock of clocks) clock.advance(ms - elapsed);
      elapsed = ms;
    };
    for (const t of [0, 10_000, 20_000, 30_000, 40_000]) {
      at(t);
      await call(t % 20_000 === 0 ? a : b, agent).expect(200);
    }
    at(59_000);
    const blocked = await call(a, agent).expect(429);
    expect(blocked.headers['retry-after']).toBe('1'); // the t=0 request ages out at t=60 s
    at(60_001);
    await call(b, agent).expect(200); // exactly one slot came back…
    const next = await call(a, agent).expect(429); // …not the whole window
    expect(next.headers['retry-after']).toBe('10'); // the t=10 s request ages out at t=70 s
    at(65_000);
    await call(a, agent).expect(429);
    at(70_001);
    await call(a, agent).expect(200);
    await call(b, agent).expect(429);
  });

  it('runs after the authentication guard: an authenticated call counts against the agent, a 401 against the IP', async () => {
    // earlier suites of this jest worker may have spent 127.0.0.1's failure budget within the minute
    const { log, rejected } = bucketKeys(ipBucket('127.0.0.1'));
    await a.app.get<Redis>(REDIS).del(log, rejected);
    const ok = await call(a, randomUUID()).expect(200);
    expect(ok.headers['ratelimit-limit']).toBe(String(LIMIT)); // the agent's limit, not the IP's (50)
    // no token: refused by the authentication guard, which counts the failure in the IP's bucket
    const res = await request(a.http).get(AGENT_ROUTE).expect(401);
    expect(res.headers['ratelimit-limit']).toBe('50');
    expect(Number(res.headers['ratelimit-remaining'])).toBeLessThan(50);
  });

  it('counts requests the authentication guard refuses for their scopes against the agent', async () => {
    const agent = randomUUID();
    const denied = () =>
      request(a.http)
        .get('/api/v1/ratelimit-probe/agent-write')
        .set('Authorization', `Bearer agent-${agent}`);
    for (let i = 0; i < LIMIT; i++) {
      const res = await denied().expect(403);
      expect(res.headers['ratelimit-remaining']).toBe(String(LIMIT - 1 - i));
    }
    const limited = await denied().expect(429);
    expect(limited.headers['ratelimit-limit']).toBe(String(LIMIT));
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    // one budget: the agent's allowed route is limited as well
    await call(b, agent).expect(429);
  });

  it('uses a per-agent override from the RateLimitOverrides provider', async () => {
    await call(a, OVERRIDDEN_AGENT).expect(200);
    const second = await call(b, OVERRIDDEN_AGENT).expect(200);
    expect(second.headers['ratelimit-limit']).toBe('2');
    expect(second.headers['ratelimit-remaining']).toBe('0');
    await call(a, OVERRIDDEN_AGENT).expect(429);
  });

  it('writes one rate_limit.exceeded audit event and one warn line per window, however many rejections', async () => {
    const agent = randomUUID();
    const events: RateLimitRejection[] = [];
    const unsubscribe = a.app.get(RateLimiterService).onRejected((e) => events.push(e));
    for (let i = 0; i < LIMIT; i++) await call(a, agent).expect(200);
    for (let i = 0; i < 8; i++) await call(i % 2 === 0 ? a : b, agent).expect(429);
    unsubscribe();
    const rows = await auditRows(agent);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: 'denied',
      actor_agent_id: agent,
      root_agent_id: agent,
      ip: '127.0.0.1',
      details: { bucket: `agent:${agent}`, kind: 'agent', limit: LIMIT, window_seconds: 60 },
    });
    expect(rows[0].request_id).toEqual(expect.any(String));
    const warns = logCapture.lines.filter((l) => l.msg === 'rate limited' && l.bucket === `agent:${agent}`);
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({
      level: 'warn',
      agent_id: agent,
      ip: '127.0.0.1',
      request_id: rows[0].request_id,
    });
    // the metrics hook sees every rejection on this instance, the first flagged
    expect(events.map((e) => [e.kind, e.first])).toEqual([
      ['agent', true],
      ['agent', false],
      ['agent', false],
      ['agent', false],
    ]);

    // a new window: the limit recovers and the next run of rejections is audited again, once
    a.app.get(Clock).advance(61_000);
    b.app.get(Clock).advance(61_000);
    for (let i = 0; i < LIMIT; i++) await call(a, agent).expect(200);
    for (let i = 0; i < 5; i++) await call(b, agent).expect(429);
    expect(await auditRows(agent)).toHaveLength(2);
  });

  it('makes one Redis round trip per check (the script by SHA) and puts a TTL on every key', async () => {
    const agent = randomUUID();
    const redis = a.app.get<Redis>(REDIS);
    await call(a, agent).expect(200); // the script is loaded on this connection
    const sent: string[] = [];
    const original = redis.sendCommand.bind(redis);
    const spy = jest.spyOn(redis, 'sendCommand').mockImplementation((command, stream) => {
      sent.push(command.name);
      return original(command, stream);
    });
    try {
      await call(a, agent).expect(200);
    } finally {
      spy.mockRestore();
    }
    expect(sent).toEqual(['evalsha']);
    const sha = createHash('sha1').update(SLIDING_WINDOW_LUA).digest('hex');
    expect(await redis.script('EXISTS', sha)).toEqual([1]);

    const log = `rl:{agent:${agent}}`;
    expect(await redis.zcard(log)).toBe(2);
    const logTtl = await redis.pttl(log);
    expect(logTtl).toBeGreaterThan(0);
    expect(logTtl).toBeLessThanOrEqual(60_000);
    for (let i = 0; i < LIMIT; i++) await call(a, agent);
    expect(await redis.zcard(log)).toBe(LIMIT); // refused requests are not logged
    const markerTtl = await redis.pttl(`${log}:rejected`);
    expect(markerTtl).toBeGreaterThan(0);
    expect(markerTtl).toBeLessThanOrEqual(60_000);
  });

  async function auditRows(agentId: string) {
    return a.app.get(DataSource).query<Record<string, unknown>[]>(
      `SELECT outcome, actor_agent_id, root_agent_id, ip, request_id, details FROM audit_events
         WHERE event_type = 'rate_limit.exceeded' AND actor_agent_id = $1 ORDER BY occurred_at`,
      [agentId],
    );
  }
});
