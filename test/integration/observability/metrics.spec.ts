import { randomUUID } from 'node:crypto';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AdminOnly,
  APP_CONFIG,
  Auth,
  configureApiApp,
  loadConfig,
  Public,
  readEnvironment,
} from '@agentauth/core';
import { Metrics, METRIC } from '@agentauth/observability';
import { ApiModule } from '../../../apps/api/src/api.module';
import { createTestApp, type TestApp } from '../../support/app';
import { movedBetween, parsePrometheusText, scrapeMetrics, valueOf } from './prometheus-text';
import { logCapture } from '../../support/log-capture';

const requests = (labels: Record<string, string>) => [METRIC.httpRequests, labels] as const;
const durationCount = (labels: Record<string, string>) =>
  [`${METRIC.httpRequestDuration}_count`, labels] as const;

describe('GET /metrics (no METRICS_TOKEN)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: undefined });
  });
  afterAll(async () => {
    await t.close();
  });

  it('is served outside the API prefix, in the Prometheus text format, with the process metrics', async () => {
    await request(t.http).get('/api/v1/metrics').expect(404);
    const res = await request(t.http).get('/metrics').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { samples, types } = parsePrometheusText(res.text);
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(types.get(METRIC.httpRequests)).toBe('counter');
    expect(types.get(METRIC.httpRequestDuration)).toBe('histogram');
    expect(types.get(METRIC.tokensIssued)).toBe('counter');
    expect(types.get(METRIC.authFailures)).toBe('counter');
    expect(types.get(METRIC.rateLimitRejections)).toBe('counter');
    expect(types.get(METRIC.auditBatchSize)).toBe('histogram');
    expect(types.get(METRIC.queueDepth)).toBe('gauge');
    expect(samples.length).toBeGreaterThan(10);
  });

  it('counts real requests by method, route pattern and status, with their latency', async () => {
    const health = { method: 'GET', route: '/health', status: '200' };
    const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
    const malformed = { method: 'POST', route: 'unmatched', status: '400' };
    const before = await scrapeMetrics(t);

    for (let i = 0; i < 3; i++) await request(t.http).get('/health').expect(200);
    await request(t.http).get(`/api/v1/no-such-collection/${randomUUID()}`).expect(404);
    await request(t.http).get('/api/v1/nothing-here').expect(404);
    // Answered by the body parser before any Nest handler or guard runs: still counted.
    await request(t.http)
      .post('/api/v1/anything')
      .set('Content-Type', 'application/json')
      .send('{"broken": ')
      .expect(400);

    const after = await scrapeMetrics(t);
    const moved = movedBetween(before, after);
    expect(moved(...requests(health))).toBe(3);
    expect(moved(...durationCount(health))).toBe(3);
    expect(moved(...requests(unmatched))).toBe(2);
    expect(moved(...requests(malformed))).toBe(1);
    expect(moved(`${METRIC.httpRequestDuration}_bucket`, { ...health, le: '+Inf' })).toBe(3);
    expect(valueOf(after, `${METRIC.httpRequestDuration}_sum`, health)).toBeGreaterThan(
      valueOf(before, `${METRIC.httpRequestDuration}_sum`, health),
    );
    // The previous scrape itself was answered and counted under its own route pattern.
    expect(moved(...requests({ method: 'GET', route: '/metrics', status: '200' }))).toBe(1);
  });

  it('never labels a series with a raw path, an id or an unknown method', async () => {
    const id = randomUUID();
    await request(t.http).get(`/api/v1/agents/${id}/credentials?secret=x`).expect(404);
    await request(t.http).get(`/ready`).set('X-Request-ID', id).expect(200);
    const res = await request(t.http).get('/metrics').expect(200);
    expect(res.text).not.toContain(id);
    const { samples } = parsePrometheusText(res.text);
    const routes = new Set(samples.filter((s) => s.name === METRIC.httpRequests).map((s) => s.labels.route));
    for (const route of routes) expect(route === 'unmatched' || route.startsWith('/')).toBe(true);
    // Routes with ids are counted under their pattern (`/api/v1/agents/:id`), never the concrete path.
    expect([...routes].filter((r) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(r))).toEqual([]);
    expect([...routes].filter((r) => r.startsWith('/api/v1/agents/') && !r.includes(':'))).toEqual([]);
  });

  // Real traffic moves these counters in security-metrics.spec.ts; this covers what that traffic cannot cheaply
  // produce: every grant type's spelling, an unknown grant type, and where batch sizes fall in the buckets.
  it('exposes the Metrics helpers under bounded labels and the audit batch histogram buckets', async () => {
    const metrics = t.app.get(Metrics);
    const before = await scrapeMetrics(t);
    metrics.tokenIssued('urn:ietf:params:oauth:grant-type:token-exchange');
    metrics.tokenIssued('urn:agentauth:grant-type:agent_delegation');
    metrics.tokenIssued('agent_delegation');
    metrics.tokenIssued('made-up-grant');
    metrics.rateLimitRejected('ip');
    metrics.auditBatch(7);
    metrics.auditBatch(1);
    const after = await scrapeMetrics(t);
    const moved = movedBetween(before, after);
    expect(moved(METRIC.tokensIssued, { grant_type: 'token_exchange' })).toBe(1);
    expect(moved(METRIC.tokensIssued, { grant_type: 'agent_delegation' })).toBe(2);
    expect(moved(METRIC.tokensIssued, { grant_type: 'other' })).toBe(1);
    expect(moved(METRIC.rateLimitRejections, { kind: 'ip' })).toBe(1);
    expect(moved(`${METRIC.auditBatchSize}_count`)).toBe(2);
    expect(moved(`${METRIC.auditBatchSize}_sum`)).toBe(8);
    expect(moved(`${METRIC.auditBatchSize}_bucket`, { le: '5' })).toBe(1);
    expect(moved(`${METRIC.auditBatchSize}_bucket`, { le: '10' })).toBe(2);
  });

  it('reads queue depths from registered collectors at scrape time and survives a failing one', async () => {
    const metrics = t.app.get(Metrics);
    let depth = 4;
    // Queue names of their own: with Redis the app's own collector reports the real queues too.
    const unregister = metrics.registerQueueDepthCollector(() => ({ 'probe-queue': depth }));
    const unregisterAsync = metrics.registerQueueDepthCollector(async () => ({ 'audit-export': 2 }));
    const unregisterBroken = metrics.registerQueueDepthCollector(() =>
      Promise.reject(new Error('redis down')),
    );
    try {
      const first = await scrapeMetrics(t);
      expect(valueOf(first, METRIC.queueDepth, { queue: 'probe-queue' })).toBe(4);
      expect(valueOf(first, METRIC.queueDepth, { queue: 'audit-export' })).toBe(2);
      const errorsBefore = valueOf(first, METRIC.queueDepthCollectorErrors);
      expect(errorsBefore).toBeGreaterThanOrEqual(1);

      depth = 9;
      const second = await scrapeMetrics(t);
      expect(valueOf(second, METRIC.queueDepth, { queue: 'probe-queue' })).toBe(9);
      expect(valueOf(second, METRIC.queueDepthCollectorErrors)).toBe(errorsBefore + 1);
    } finally {
      unregister();
      unregisterAsync();
      unregisterBroken();
    }
    const third = await scrapeMetrics(t);
    const reported = third.filter((s) => s.name === METRIC.queueDepth).map((s) => s.labels.queue);
    expect(reported).not.toContain('probe-queue');
    expect(reported).not.toContain('audit-export');
  });

  it('is described in the OpenAPI document', async () => {
    const res = await request(t.http).get('/docs-json').expect(200);
    expect(Object.keys(res.body.paths)).toContain('/metrics');
  });
});

describe('GET /metrics with METRICS_TOKEN set', () => {
  const token = `metrics-${randomUUID()}`;
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a missing or wrong token with 401 problem+json and counts the failures', async () => {
    const missing = await request(t.http).get('/metrics').expect(401);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(missing.body).toMatchObject({
      type: 'urn:agentauth:problem:metrics_token_required',
      status: 401,
      request_id: missing.headers['x-request-id'],
    });
    expect(missing.text).not.toContain('agentauth_http_requests_total');
    await request(t.http).get('/metrics').set('Authorization', `Bearer ${token}x`).expect(401);
    await request(t.http).get('/metrics').set('Authorization', `Basic ${token}`).expect(401);
    await request(t.http)
      .get('/metrics')
      .set('Authorization', `Bearer ${token.slice(0, -1)}`)
      .expect(401);

    const samples = await scrapeMetrics(t, token);
    expect(valueOf(samples, METRIC.authFailures, { reason: 'metrics_token' })).toBe(4);
    expect(valueOf(samples, METRIC.httpRequests, { method: 'GET', route: '/metrics', status: '401' })).toBe(
      4,
    );
  });

  it('does not let an X-Admin-Key or a token in the query string in', async () => {
    await request(t.http).get('/metrics').set('X-Admin-Key', t.config.adminApiKey).expect(401);
    await request(t.http).get(`/metrics?token=${token}`).expect(401);
  });
});

describe('GET /metrics is never rate limited', () => {
  it('answers every scrape even with the smallest limits configured', async () => {
    const t = await createTestApp({
      METRICS_TOKEN: undefined,
      RATE_LIMIT_IP_PER_MINUTE: '1',
      RATE_LIMIT_AGENT_PER_MINUTE: '1',
    });
    try {
      for (let i = 0; i < 8; i++) {
        const res = await request(t.http).get('/metrics');
        expect(res.status).toBe(200);
        expect(res.headers['retry-after']).toBeUndefined();
      }
    } finally {
      await t.close();
    }
  });
});

/** Routes that fail in each way a real route can, mounted on the real ApiModule with the production wiring. */
@Controller('metrics-probe')
class ProbeController {
  @Get('agents/:id')
  @Auth({ scopes: ['agents:read'] })
  guarded(): object {
    return {};
  }

  @Get('admin')
  @AdminOnly()
  admin(): object {
    return {};
  }

  @Get('boom')
  @Public()
  boom(): object {
    throw new Error('probe failure');
  }

  /** An unexpected error whose message and stack hold internals a client must never see. */
  @Get('boom-with-internals')
  @Public()
  boomWithInternals(): object {
    throw Object.assign(new Error(INTERNAL_ERROR_MESSAGE), { query: 'SELECT key_hash FROM credentials' });
  }
}

const INTERNAL_ERROR_MESSAGE = 'relation "credentials_shadow" does not exist (pool 3, 10.0.0.7:5432)';

describe('HTTP metrics for answers given by guards and the exception filter', () => {
  let app: INestApplication;
  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule], controllers: [ProbeController] })
      .overrideProvider(APP_CONFIG)
      .useValue(loadConfig({ ...readEnvironment(), METRICS_TOKEN: undefined }))
      .compile();
    app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
    configureApiApp(app);
    await app.init();
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts guard rejections (401) and server errors (500) under the route pattern', async () => {
    const http = app.getHttpServer();
    await request(http).get(`/api/v1/metrics-probe/agents/${randomUUID()}`).expect(401);
    await request(http)
      .get(`/api/v1/metrics-probe/agents/${randomUUID()}`)
      .set('Authorization', 'Bearer nope')
      .expect(401);
    await request(http).get('/api/v1/metrics-probe/admin').set('X-Admin-Key', 'wrong').expect(401);
    await request(http).get('/api/v1/metrics-probe/boom').expect(500);
    const res = await request(http).get('/metrics').expect(200);
    const { samples } = parsePrometheusText(res.text);
    const count = (route: string, status: string) =>
      valueOf(samples, METRIC.httpRequests, { method: 'GET', route, status });
    expect(count('/api/v1/metrics-probe/agents/:id', '401')).toBe(2);
    expect(count('/api/v1/metrics-probe/admin', '401')).toBe(1);
    expect(count('/api/v1/metrics-probe/boom', '500')).toBe(1);
    expect(
      valueOf(samples, `${METRIC.httpRequestDuration}_count`, {
        method: 'GET',
        route: '/api/v1/metrics-probe/boom',
        status: '500',
      }),
    ).toBe(1);
  });

  it('answers an unexpected error with the generic internal_error problem: no message, no stack', async () => {
    const rid = `boom-${randomUUID()}`;
    const res = await request(app.getHttpServer())
      .get('/api/v1/metrics-probe/boom-with-internals')
      .set('X-Request-ID', rid)
      .expect(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'urn:agentauth:problem:internal_error',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred; the request id identifies it in the logs',
      request_id: rid,
    });
    for (const internal of ['credentials_shadow', 'key_hash', '10.0.0.7', 'Error:', 'metrics.spec', '.ts:']) {
      expect({ internal, leaked: res.text.includes(internal) }).toEqual({ internal, leaked: false });
    }
    expect(res.text).not.toMatch(/\bat .+:\d+:\d+/); // a stack frame
    // The cause is in the log line of that request instead.
    expect(logCapture.forRequest(rid).find((l) => l.msg === 'unhandled error')).toMatchObject({
      level: 'error',
      err: { message: INTERNAL_ERROR_MESSAGE, stack: expect.stringContaining('boomWithInternals') },
    });
  });
});
