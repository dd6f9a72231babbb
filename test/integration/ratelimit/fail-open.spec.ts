import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { BEARER_AUTHENTICATOR, Clock } from '@agentauth/core';
import { METRIC } from '@agentauth/observability';
import { FAIL_OPEN_LOG_INTERVAL_MS, RateLimiterService } from '@agentauth/ratelimit';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { RateLimitProbeModule, TestBearerAuthenticator } from '../../support/ratelimit-probe.controller';
import { parsePrometheusText, valueOf } from '../observability/prometheus-text';

/** Redis down: availability of authentication beats limiting (docs/rate-limiting.md). */
describe('rate limiter with Redis down', () => {
  let t: TestApp;
  const failOpens: string[] = [];
  beforeAll(async () => {
    t = await createTestApp(
      {
        REDIS_URL: 'redis://127.0.0.1:1/0',
        RATE_LIMIT_IP_PER_MINUTE: '1',
        RATE_LIMIT_AGENT_PER_MINUTE: '1',
        METRICS_TOKEN: undefined,
      },
      {
        extraModules: [RateLimitProbeModule],
        overrideProviders: [{ provide: BEARER_AUTHENTICATOR, useValue: new TestBearerAuthenticator() }],
      },
    );
    t.app.get(RateLimiterService).onFailOpen((e) => failOpens.push(e.error));
  });
  afterAll(async () => {
    await t.close();
  });

  const failOpenLines = () =>
    logCapture.lines.filter(
      (l) => l.msg === 'rate limiter unavailable: failing open' && l.component === 'ratelimit',
    );

  const failOpenMetric = async () => {
    const res = await request(t.http).get('/metrics').expect(200);
    return valueOf(parsePrometheusText(res.text).samples, METRIC.rateLimitFailOpen);
  };

  it('fails open on public and authenticated routes, with a throttled error log and a counter', async () => {
    const before = failOpenLines().length;
    const metricBefore = await failOpenMetric();
    for (let i = 0; i < 4; i++) {
      const res = await request(t.http).get('/api/v1/ratelimit-probe/public').expect(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined(); // no made-up numbers
    }
    const agent = randomUUID();
    for (let i = 0; i < 3; i++) {
      await request(t.http)
        .get('/api/v1/ratelimit-probe/agent')
        .set('Authorization', `Bearer agent-${agent}`)
        .expect(200);
    }
    const lines = failOpenLines().slice(before);
    expect(lines).toHaveLength(1); // one line per FAIL_OPEN_LOG_INTERVAL_MS, not one per request
    expect(lines[0]).toMatchObject({ level: 'error', error: expect.any(String) });
    expect(failOpens).toHaveLength(7);
    expect(t.app.get(RateLimiterService).failOpenCount).toBeGreaterThanOrEqual(7);
    // the Prometheus counter (agentauth_rate_limit_fail_open_total) moved once per request let through
    expect((await failOpenMetric()) - metricBefore).toBe(7);

    t.app.get(Clock).advance(FAIL_OPEN_LOG_INTERVAL_MS);
    await request(t.http).get('/api/v1/ratelimit-probe/public').expect(200);
    const next = failOpenLines().slice(before);
    expect(next).toHaveLength(2);
    expect(next[1]).toMatchObject({ suppressed: 6 });
  });
});
