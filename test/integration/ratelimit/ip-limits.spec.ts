import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BEARER_AUTHENTICATOR, Clock } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { RateLimitProbeModule, TestBearerAuthenticator } from '../../support/ratelimit-probe.controller';
import { redisKeyPrefix } from '../../support/test-env';
import { auditEventsOf } from '../../factories/db';

const PUBLIC_ROUTE = '/api/v1/ratelimit-probe/public';
const BOOTSTRAP_ROUTE = '/api/v1/ratelimit-probe/bootstrap';
const CLIENT_AUTH_ROUTE = '/api/v1/ratelimit-probe/client-auth';
const IP_LIMIT = 3;
const PROBE = {
  extraModules: [RateLimitProbeModule],
  overrideProviders: [{ provide: BEARER_AUTHENTICATOR, useValue: new TestBearerAuthenticator() }],
};

/** A fresh Redis namespace: tests from 127.0.0.1 must not share the socket IP's bucket with other tests. */
const freshPrefix = () => `${redisKeyPrefix()}${randomUUID()}:`;

/** The probe app with the per-IP limit (plus `env`) in a fresh namespace. */
const ipLimitedApp = (env: Record<string, string> = {}) =>
  createTestApp(
    { RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT), REDIS_KEY_PREFIX: freshPrefix(), ...env },
    PROBE,
  );

describe('per-IP rate limits, untrusted proxy (the socket address counts)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await ipLimitedApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('limits public routes per IP; a spoofed X-Forwarded-For changes nothing', async () => {
    for (let i = 0; i < IP_LIMIT; i++) {
      const res = await request(t.http)
        .get(PUBLIC_ROUTE)
        .set('X-Forwarded-For', `198.51.100.${i + 1}`)
        .expect(200);
      expect(res.body.ip).toBe('127.0.0.1');
      expect(res.headers['ratelimit-limit']).toBe(String(IP_LIMIT));
      expect(res.headers['ratelimit-remaining']).toBe(String(IP_LIMIT - 1 - i));
    }
    const limited = await request(t.http)
      .get(PUBLIC_ROUTE)
      .set('X-Forwarded-For', '198.51.100.99')
      .expect(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body.type).toBe('urn:agentauth:problem:rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    const rows = await t.app
      .get(DataSource)
      .query<{ ip: string; actor_agent_id: string | null; details: Record<string, unknown> }[]>(
        `SELECT ip, actor_agent_id, details FROM audit_events WHERE event_type = 'rate_limit.exceeded' AND ip = $1 AND request_id = $2`,
        ['127.0.0.1', limited.headers['x-request-id']],
      );
    expect(rows).toEqual([
      {
        ip: '127.0.0.1',
        actor_agent_id: null,
        details: expect.objectContaining({ bucket: 'ip:127.0.0.1', kind: 'ip', limit: IP_LIMIT }),
      },
    ]);
  });

  it('never limits /health and /ready, even past the IP limit', async () => {
    for (let i = 0; i < IP_LIMIT; i++) await request(t.http).get(PUBLIC_ROUTE);
    await request(t.http).get(PUBLIC_ROUTE).expect(429); // the socket IP is over its limit
    for (let i = 0; i < IP_LIMIT * 4; i++) {
      const health = await request(t.http).get('/health').expect(200);
      expect(health.headers['ratelimit-limit']).toBeUndefined();
      await request(t.http).get('/ready').expect(200);
    }
  });

  it('does not limit authenticated agents by IP', async () => {
    for (let i = 0; i < IP_LIMIT + 2; i++) {
      await request(t.http)
        .get('/api/v1/ratelimit-probe/agent')
        .set('Authorization', `Bearer agent-${randomUUID()}`)
        .expect(200);
    }
  });
});

describe('per-IP rate limits behind a trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await ipLimitedApp({ BOOTSTRAP_RATE_LIMIT_PER_HOUR: '2', TRUST_PROXY_CIDRS: '127.0.0.1/32' });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => t.app.get(Clock).reset());

  const from = (ip: string) => request(t.http).get(PUBLIC_ROUTE).set('X-Forwarded-For', ip);

  it('limits the client named by X-Forwarded-For, each client separately', async () => {
    for (let i = 0; i < IP_LIMIT; i++)
      expect((await from('203.0.113.10').expect(200)).body.ip).toBe('203.0.113.10');
    await from('203.0.113.10').expect(429);
    await from('203.0.113.11').expect(200);
  });

  it('counts IPv6 clients per /64', async () => {
    await from('2001:db8:aa:1::1').expect(200);
    await from('2001:db8:aa:1:ffff::2').expect(200);
    await from('2001:db8:aa:1::3').expect(200);
    await from('2001:db8:aa:1::4').expect(429);
    await from('2001:db8:aa:2::1').expect(200);
  });

  it('limits bootstrap per IP per hour, all-or-nothing with the per-minute IP limit', async () => {
    const ip = '203.0.113.20';
    const bootstrap = () => request(t.http).post(BOOTSTRAP_ROUTE).set('X-Forwarded-For', ip).send({});
    expect((await bootstrap().expect(201)).headers['ratelimit-limit']).toBe('2');
    await bootstrap().expect(201);
    const limited = await bootstrap().expect(429);
    expect(limited.headers['ratelimit-limit']).toBe('2');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(3500);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(3600);
    // the refused bootstrap did not use up the per-minute IP budget: 2 of 3 used, this GET is the third
    const get = await from(ip).expect(200);
    expect(get.headers['ratelimit-remaining']).toBe('0');
    t.app.get(Clock).advance(3600_001);
    await bootstrap().expect(201);
  });

  it('on client-authentication endpoints counts only failures and refuses the RFC 6749 way', async () => {
    const ip = '203.0.113.30';
    const authenticate = (secret: string) =>
      request(t.http).post(CLIENT_AUTH_ROUTE).set('X-Forwarded-For', ip).send({ client_secret: secret });
    for (let i = 0; i < IP_LIMIT + 2; i++) {
      const ok = await authenticate('right').expect(201);
      expect(ok.headers['ratelimit-remaining']).toBe(String(IP_LIMIT)); // successes are not counted
    }
    for (let i = 0; i < IP_LIMIT; i++) await authenticate('wrong').expect(401);
    const limited = await authenticate('right').expect(429);
    expect(limited.headers['content-type']).toMatch(/^application\/json/);
    expect(limited.body).toEqual({
      error: 'rate_limited',
      error_description: expect.stringMatching(/retry after/),
    });
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit-limit']).toBe(String(IP_LIMIT));
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    // failed client authentication and unauthenticated calls share the IP's budget
    await from(ip).expect(429);
  });
});

describe('failed authentication at the authentication guard counts against the IP (CONTRACT §7)', () => {
  const AGENT_ROUTE = '/api/v1/ratelimit-probe/agent';
  const ADMIN_ROUTE = '/api/v1/stats';
  let t: TestApp;
  beforeAll(async () => {
    t = await ipLimitedApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const eventsOf = (res: request.Response) => auditEventsOf(res.headers['x-request-id']);

  it('missing/forged Bearer tokens and wrong admin keys use up the IP budget; then 429 without auditing each', async () => {
    const authenticate = jest.spyOn(TestBearerAuthenticator.prototype, 'authenticate');
    // IP_LIMIT failures: each a 401 with the IP's informational headers and exactly one client_auth.failed
    const failures = [
      await request(t.http).get(AGENT_ROUTE).expect(401),
      await request(t.http).get(AGENT_ROUTE).set('Authorization', 'Bearer forged').expect(401),
      await request(t.http).get(ADMIN_ROUTE).set('X-Admin-Key', `${t.config.adminApiKey}x`).expect(401),
    ];
    expect(failures.map((r) => r.headers['ratelimit-remaining'])).toEqual(['2', '1', '0']);
    expect(failures.every((r) => r.headers['ratelimit-limit'] === String(IP_LIMIT))).toBe(true);
    expect((await eventsOf(failures[0]))[0].details).toEqual({
      reason: 'bearer_required',
      cause: 'missing',
      route: `GET ${AGENT_ROUTE}`,
    });
    expect((await eventsOf(failures[2]))[0].details).toEqual({
      reason: 'admin_key',
      cause: 'mismatch',
      route: `GET ${ADMIN_ROUTE}`,
    });
    for (const res of failures) {
      expect(await eventsOf(res)).toEqual([
        expect.objectContaining({ event_type: 'client_auth.failed', outcome: 'failure', ip: '127.0.0.1' }),
      ]);
    }

    // over the limit: 429 with Retry-After and RateLimit-*, for every kind of failure
    const limited = [
      await request(t.http).get(AGENT_ROUTE).set('Authorization', 'Bearer forged-again').expect(429),
      await request(t.http).get(AGENT_ROUTE).expect(429),
      await request(t.http).get(ADMIN_ROUTE).set('X-Admin-Key', 'wrong').expect(429),
    ];
    for (const res of limited) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe('urn:agentauth:problem:rate_limited');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.headers['ratelimit-limit']).toBe(String(IP_LIMIT));
      expect(res.headers['ratelimit-remaining']).toBe('0');
    }
    // no client_auth.failed row any more: the first rejection of the window is the one rate_limit.exceeded
    expect(await eventsOf(limited[0])).toEqual([
      expect.objectContaining({
        event_type: 'rate_limit.exceeded',
        outcome: 'denied',
        details: expect.objectContaining({ bucket: 'ip:127.0.0.1', kind: 'ip' }),
      }),
    ]);
    expect(await eventsOf(limited[1])).toEqual([]);
    expect(await eventsOf(limited[2])).toEqual([]);

    // only failures are counted and refused: a valid token and the right admin key still work from this IP
    authenticate.mockClear();
    await request(t.http).get(AGENT_ROUTE).set('Authorization', `Bearer agent-${randomUUID()}`).expect(200);
    expect(authenticate).toHaveBeenCalledTimes(1);
    await request(t.http).get(ADMIN_ROUTE).set('X-Admin-Key', t.config.adminApiKey).expect(200);
    // …while unauthenticated calls share the spent budget
    await request(t.http).get(PUBLIC_ROUTE).expect(429);
    authenticate.mockRestore();
  });
});
