import request from 'supertest';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';
import { createTestApp, type TestApp } from '../../support/app';
import { productionOverrides, redisKeyPrefix } from '../../support/test-env';
import { API, authStatus } from '../../factories/agents';
import { auditEventsOf } from '../../factories/db';

const PRODUCTION = productionOverrides();

describe('POST /agents/bootstrap', () => {
  describe('outside production (open)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(async () => {
      await t.close();
    });

    it('creates a root agent with every built-in scope and its first key, and audits it', async () => {
      const res = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: 'acme', version: '1.0' })
        .expect(201);
      expect(res.body.agent).toMatchObject({
        name: 'acme',
        trust_level: 'root',
        parent_agent_id: null,
        depth: 0,
        status: 'active',
        allowed_scopes: [...BUILT_IN_SCOPES].sort(),
      });
      expect(res.body.agent.root_agent_id).toBe(res.body.agent.id);
      expect(res.body.credential).toMatchObject({
        agent_id: res.body.agent.id,
        scopes: res.body.agent.allowed_scopes,
        api_key: expect.stringMatching(/^aa_/),
        masked_key: `aa_${res.body.credential.prefix}_****`,
      });
      expect(await authStatus(t, { agent: res.body.agent, apiKey: res.body.credential.api_key })).toBe(200);
      expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
        expect.objectContaining({
          event_type: 'agent.bootstrapped',
          outcome: 'success',
          target_id: res.body.agent.id,
          actor_agent_id: res.body.agent.id,
          root_agent_id: res.body.agent.id,
          details: { credential_id: res.body.credential.id, credential_type: 'api_key' },
        }),
      ]);
    });

    it('takes a narrower built-in scope set, and refuses anything else', async () => {
      const narrow = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: 'narrow', allowed_scopes: ['agents:write', 'agents:read'] })
        .expect(201);
      expect(narrow.body.agent.allowed_scopes).toEqual(['agents:read', 'agents:write']);
      expect(narrow.body.credential.scopes).toEqual(['agents:read', 'agents:write']);
      for (const allowed_scopes of [['Agents:Read'], ['agents:*', 'nope nope']]) {
        const res = await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .send({ name: 'x', allowed_scopes })
          .expect(400);
        expect(res.body.type).toBe('urn:agentauth:problem:validation_error');
      }
      // Well-formed but not registered: no tree exists yet, so only the built-ins are.
      const unknown = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: 'x', allowed_scopes: ['files:read'] })
        .expect(400);
      expect(unknown.body.type).toBe('urn:agentauth:problem:unknown_scope');
    });
  });

  describe('in production', () => {
    it('is closed without BOOTSTRAP_OPEN or a bootstrap token', async () => {
      const t = await createTestApp(PRODUCTION);
      try {
        const res = await request(t.http).post(`${API}/agents/bootstrap`).send({ name: 'x' }).expect(403);
        expect(res.body.type).toBe('urn:agentauth:problem:bootstrap_closed');
        await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .set('X-Bootstrap-Token', 'guess')
          .send({ name: 'x' })
          .expect(403);
        // the operator's admin key opens it
        await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .set('X-Admin-Key', t.config.adminApiKey)
          .send({ name: 'x' })
          .expect(201);
      } finally {
        await t.close();
      }
    });

    it('opens with the right X-Bootstrap-Token only', async () => {
      const token = 'bootstrap-token-that-is-long-and-random-0123456789';
      const t = await createTestApp({ ...PRODUCTION, BOOTSTRAP_TOKEN: token });
      try {
        await request(t.http).post(`${API}/agents/bootstrap`).send({ name: 'x' }).expect(403);
        await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .set('X-Bootstrap-Token', `${token}x`)
          .send({ name: 'x' })
          .expect(403);
        await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .set('X-Bootstrap-Token', token)
          .send({ name: 'x' })
          .expect(201);
      } finally {
        await t.close();
      }
    });

    it('opens with BOOTSTRAP_OPEN=true', async () => {
      const t = await createTestApp({ ...PRODUCTION, BOOTSTRAP_OPEN: 'true' });
      try {
        await request(t.http).post(`${API}/agents/bootstrap`).send({ name: 'x' }).expect(201);
      } finally {
        await t.close();
      }
    });
  });

  it('is rate limited per IP: the 4th attempt in the hour is a 429 with Retry-After, and creates nothing', async () => {
    const t = await createTestApp({
      BOOTSTRAP_RATE_LIMIT_PER_HOUR: '3',
      REDIS_KEY_PREFIX: `${redisKeyPrefix()}bootstrap-limit-${Date.now()}:`,
    });
    try {
      for (let i = 0; i < 3; i++)
        await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .send({ name: `r${i}` })
          .expect(201);
      const limited = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: 'fourth' })
        .expect(429);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.body.type).toBe('urn:agentauth:problem:rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600).toBe(true);
      // Refused by the rate-limit guard before the handler: one rate_limit.exceeded event, no bootstrap event.
      const events = await auditEventsOf(limited.headers['x-request-id']);
      expect(events).toEqual([
        expect.objectContaining({
          event_type: 'rate_limit.exceeded',
          outcome: 'denied',
          details: expect.objectContaining({ kind: 'bootstrap', limit: 3 }),
        }),
      ]);
    } finally {
      await t.close();
    }
  });

  it('counts refused (closed) attempts too, so a bootstrap token cannot be guessed at speed', async () => {
    const t = await createTestApp({
      ...PRODUCTION,
      BOOTSTRAP_RATE_LIMIT_PER_HOUR: '2',
      REDIS_KEY_PREFIX: `${redisKeyPrefix()}bootstrap-guess-${Date.now()}:`,
    });
    try {
      for (const guess of ['a', 'b']) {
        await request(t.http)
          .post(`${API}/agents/bootstrap`)
          .set('X-Bootstrap-Token', guess)
          .send({ name: 'x' })
          .expect(403);
      }
      await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .set('X-Admin-Key', t.config.adminApiKey)
        .send({ name: 'x' })
        .expect(429);
    } finally {
      await t.close();
    }
  });
});
