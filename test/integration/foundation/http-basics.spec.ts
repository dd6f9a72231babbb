import request from 'supertest';
import { aChildCaller, API, aTree } from '../../factories/agents';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';

describe('HTTP foundation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /health answers 200 outside the API prefix', async () => {
    const res = await request(t.http).get('/health').expect(200);
    expect(res.body.status).toBe('ok');
  });

  it('GET /ready answers 200 when PostgreSQL and Redis are reachable', async () => {
    const res = await request(t.http).get('/ready').expect(200);
    expect(res.body.details.database.status).toBe('up');
    expect(res.body.details.redis.status).toBe('up');
  });

  it('preserves a sane client X-Request-ID and puts it in every log line of the request', async () => {
    const id = `it-req-${Date.now()}`;
    const res = await request(t.http).get('/api/v1/does-not-exist').set('X-Request-ID', id).expect(404);
    expect(res.headers['x-request-id']).toBe(id);
    expect(res.body.request_id).toBe(id);
    const lines = logCapture.forRequest(id);
    const access = lines.find((l) => l.msg === 'request completed');
    expect(access).toMatchObject({
      method: 'GET',
      route: 'unmatched',
      status: 404,
      service_name: 'agentauth-api',
      environment: 'test',
      request_id: id,
    });
    expect(typeof access?.duration_ms).toBe('number');
    expect(typeof access?.hostname).toBe('string');
    expect(String(access?.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("logs the authenticated caller's id as agent_id (null without authentication)", async () => {
    // A child caller: its id differs from its tree's root, so the line must carry the caller itself.
    const caller = await aChildCaller(t, await aTree(t), { allowed_scopes: ['agents:read'] });
    const id = `it-agent-${Date.now()}`;
    await request(t.http).get(`${API}/agents`).set(caller.auth).set('X-Request-ID', id).expect(200);
    expect(logCapture.forRequest(id).find((l) => l.msg === 'request completed')).toMatchObject({
      route: `${API}/agents`,
      status: 200,
      agent_id: caller.agent.id,
    });

    const anonymous = `it-anon-${Date.now()}`;
    await request(t.http).get(`${API}/agents`).set('X-Request-ID', anonymous).expect(401);
    expect(logCapture.forRequest(anonymous).find((l) => l.msg === 'request completed')).toMatchObject({
      status: 401,
      agent_id: null,
    });
  });

  it('replaces an insane X-Request-ID with a generated UUID', async () => {
    const res = await request(t.http).get('/health').set('X-Request-ID', 'x'.repeat(200)).expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await request(t.http)
      .get('/health')
      .set('X-Request-ID', 'has spaces; and <html>')
      .expect(200);
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs the matched route pattern, not the raw path', async () => {
    const id = `it-route-${Date.now()}`;
    await request(t.http).get('/ready').set('X-Request-ID', id).expect(200);
    const access = logCapture.forRequest(id).find((l) => l.msg === 'request completed');
    expect(access?.route).toBe('/ready');
  });

  it('answers unknown routes with RFC 9457 problem+json', async () => {
    const res = await request(t.http).get('/api/v1/nothing-here').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'urn:agentauth:problem:not_found',
      title: 'Not Found',
      status: 404,
      detail: expect.any(String),
      request_id: res.headers['x-request-id'],
    });
  });

  it('answers malformed JSON with 400 problem+json, never 500', async () => {
    const res = await request(t.http)
      .post('/api/v1/anything')
      .set('Content-Type', 'application/json')
      .send('{"broken": ')
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toBe('urn:agentauth:problem:malformed_body');
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
  });

  it('answers an oversized body with 413 problem+json', async () => {
    const res = await request(t.http)
      .post('/api/v1/anything')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ blob: 'a'.repeat(t.config.bodyLimitBytes + 10) }))
      .expect(413);
    expect(res.body.status).toBe(413);
    expect(res.body.type).toBe('urn:agentauth:problem:payload_too_large');
  });

  it('answers a body in an unsupported content type with 415', async () => {
    const res = await request(t.http)
      .post('/api/v1/anything')
      .set('Content-Type', 'text/plain')
      .send('hello')
      .expect(415);
    expect(res.body.type).toBe('urn:agentauth:problem:unsupported_media_type');
  });

  it('sets security headers and no x-powered-by, on answers and on errors alike', async () => {
    for (const res of [
      await request(t.http).get('/health').expect(200),
      await request(t.http).get('/api/v1/does-not-exist').expect(404),
      await request(t.http).post('/api/v1/auth/token').type('form').send('grant_type=nope').expect(400),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    }
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /docs-json', async () => {
    await request(t.http).get('/docs').expect(200).expect('Content-Type', /html/);
    const res = await request(t.http).get('/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/health', '/ready']));
  });
});

describe('/ready with Redis unreachable', () => {
  it('answers 503 and names redis as down', async () => {
    const t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1/0' });
    try {
      const res = await request(t.http).get('/ready').expect(503);
      expect(res.body.details.redis.status).toBe('down');
      expect(res.body.details.database.status).toBe('up');
      await request(t.http).get('/health').expect(200);
    } finally {
      await t.close();
    }
  });
});

describe('CORS from CORS_ORIGINS', () => {
  const LISTED = 'https://app.example';
  let listed: TestApp;
  let wildcard: TestApp;
  beforeAll(async () => {
    [listed, wildcard] = await Promise.all([
      createTestApp({ CORS_ORIGINS: `["${LISTED}","https://admin.example"]` }),
      createTestApp({ CORS_ORIGINS: '["*"]' }), // the .env.example value
    ]);
  });
  afterAll(async () => {
    await Promise.all([listed.close(), wildcard.close()]);
  });

  const preflight = (app: TestApp, origin: string) =>
    request(app.http)
      .options(`${API}/agents`)
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type');

  it('answers a preflight from a listed origin with that origin, the method and the headers', async () => {
    const res = await preflight(listed, LISTED).expect(204);
    expect(res.headers['access-control-allow-origin']).toBe(LISTED);
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toBe('authorization,content-type');
    expect(res.headers.vary).toMatch(/\bOrigin\b/);
  });

  it('allows a listed origin to read answers and errors, with X-Request-ID exposed', async () => {
    for (const res of [
      await request(listed.http).get('/health').set('Origin', LISTED).expect(200),
      await request(listed.http).get(`${API}/agents`).set('Origin', LISTED).expect(401),
    ]) {
      expect(res.headers['access-control-allow-origin']).toBe(LISTED);
      expect(res.headers['access-control-expose-headers']).toContain('X-Request-ID');
    }
  });

  it('gives an unlisted origin no Access-Control-Allow-Origin, on preflights and simple requests', async () => {
    for (const origin of ['https://evil.example', `${LISTED}.evil.example`, 'http://app.example']) {
      const pre = await preflight(listed, origin);
      const simple = await request(listed.http).get('/health').set('Origin', origin).expect(200);
      expect({ origin, preflight: pre.headers['access-control-allow-origin'] }).toEqual({
        origin,
        preflight: undefined,
      });
      expect({ origin, simple: simple.headers['access-control-allow-origin'] }).toEqual({
        origin,
        simple: undefined,
      });
    }
  });

  it('answers any origin with * when CORS_ORIGINS is ["*"]', async () => {
    const pre = await preflight(wildcard, 'https://anywhere.example').expect(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    const simple = await request(wildcard.http).get('/health').set('Origin', 'https://anywhere.example');
    expect(simple.headers['access-control-allow-origin']).toBe('*');
  });
});
