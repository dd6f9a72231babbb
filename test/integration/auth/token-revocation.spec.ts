import request from 'supertest';
import { REVOCATION_KEYS } from '@agentauth/revocation';
import { createTestApp, type TestApp } from '../../support/app';
import { deleteWorkerKeys, rawRedis } from '../../support/raw-redis';
import { redisKeyPrefix } from '../../support/test-env';
import { aKey, anAgent, API, aTree, type Caller, requestToken, withFreshToken } from '../../factories/agents';
import { auditEventsOf } from '../../factories/db';
import { claimsOf, guardStatus, introspect, isActive, revokeToken } from './auth-helpers';

const SCOPES = ['agents:read', 'agents:write', 'credentials:read', 'credentials:write', 'tokens:introspect'];

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('token revocation (RFC 7009)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function tree(): Promise<{ root: Caller; child: Caller; grandchild: Caller; sibling: Caller }> {
    const root = await aTree(t);
    const child = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    const grandchild = await aKey(t, child, await anAgent(t, child, { allowed_scopes: ['agents:read'] }));
    const sibling = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    return { root, child, grandchild, sibling };
  }

  it('revokes an access token at once: 200 with no body, dead at introspection and at the guard', async () => {
    const { root, child } = await tree();
    const token = child.accessToken;
    expect(await isActive(t, root, token)).toBe(true);
    const res = await revokeToken(t, child, token, { token_type_hint: 'access_token' }).expect(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await isActive(t, root, token)).toBe(false);
    expect(await guardStatus(t, token)).toBe(401);
    // only that token: the key and its other tokens live
    expect(await guardStatus(t, (await withFreshToken(t, child)).accessToken)).toBe(200);
    const { jti } = claimsOf(token);
    expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'token.revoked',
        outcome: 'success',
        actor_agent_id: child.agent.id,
        target_type: 'token',
        target_id: jti,
        details: { token_type: 'access_token', jti, client_id: child.agent.id, sub: child.agent.id },
      }),
    ]);
    // idempotent
    await revokeToken(t, child, token).expect(200);
  });

  it("revokes tokens of the caller's subtree only; others are answered 200 and stay active", async () => {
    const { root, child, grandchild, sibling } = await tree();
    const other = await aTree(t);
    // an ancestor revokes a descendant's token
    await revokeToken(t, child, grandchild.accessToken).expect(200);
    expect(await isActive(t, root, grandchild.accessToken)).toBe(false);
    // a sibling's, a parent's and another tree's tokens are out of reach
    for (const [caller, token] of [
      [child, sibling.accessToken],
      [child, root.accessToken],
      [child, other.accessToken],
    ] as const) {
      const res = await revokeToken(t, caller, token).expect(200);
      expect(res.text).toBe('');
      expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([]);
    }
    expect(await isActive(t, root, sibling.accessToken)).toBe(true);
    expect(await isActive(t, root, root.accessToken)).toBe(true);
    expect(await isActive(t, other, other.accessToken)).toBe(true);
  });

  it('answers 200 for unknown or invalid tokens, and OAuth errors for bad requests', async () => {
    const { child } = await tree();
    for (const token of ['nonsense', 'a.b.c', `${child.accessToken}x`]) {
      await revokeToken(t, child, token, { token_type_hint: 'refresh_token' }).expect(200);
    }
    const missing = await request(t.http)
      .post(`${API}/auth/token/revoke`)
      .auth(child.agent.id, child.apiKey)
      .type('form')
      .send({})
      .expect(400);
    expect(missing.body).toEqual({
      error: 'invalid_request',
      error_description: 'The parameter "token" is required',
    });
    const unauthenticated = await request(t.http)
      .post(`${API}/auth/token/revoke`)
      .type('form')
      .send({ token: child.accessToken })
      .expect(401);
    expect(unauthenticated.body.error).toBe('invalid_client');
    expect(unauthenticated.headers['www-authenticate']).toBe('Basic realm="agentauth", charset="UTF-8"');
    expect(await guardStatus(t, child.accessToken)).toBe(200);
  });
});

describe('what else kills a token (cascades)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function pair(): Promise<{ root: Caller; agent: Caller }> {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    return { root, agent };
  }

  it("a revoked key's tokens are inactive at once; its agent's other keys' tokens live", async () => {
    const { root, agent } = await pair();
    const other = await aKey(t, root, agent.agent);
    await request(t.http).delete(`${API}/credentials/${agent.credentialId}`).set(root.auth).expect(200);
    expect(await isActive(t, root, agent.accessToken)).toBe(false);
    expect(await guardStatus(t, agent.accessToken)).toBe(401);
    expect(await isActive(t, root, other.accessToken)).toBe(true);
  });

  it("a rotation leaves the old key's tokens alive (until the grace ends bounds them)", async () => {
    const { root, agent } = await pair();
    await request(t.http)
      .post(`${API}/credentials/${agent.credentialId}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 3600 })
      .expect(200);
    expect(await isActive(t, root, agent.accessToken)).toBe(true);
  });

  it("suspension kills the subtree's tokens for good; re-activation does not revive them", async () => {
    const { root, agent } = await pair();
    const child = await aKey(t, agent, await anAgent(t, agent, { allowed_scopes: ['agents:read'] }));
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect(await isActive(t, root, agent.accessToken)).toBe(false);
    expect(await isActive(t, root, child.accessToken)).toBe(false);
    expect(await isActive(t, root, root.accessToken)).toBe(true);
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ status: 'active' })
      .expect(200);
    expect(await isActive(t, root, agent.accessToken)).toBe(false);
    expect(await isActive(t, root, (await withFreshToken(t, agent)).accessToken)).toBe(true);
  });

  it("deactivation kills the subtree's tokens (and keys)", async () => {
    const { root, agent } = await pair();
    const child = await aKey(t, agent, await anAgent(t, agent, { allowed_scopes: ['agents:read'] }));
    await request(t.http).delete(`${API}/agents/${agent.agent.id}`).set(root.auth).expect(200);
    for (const c of [agent, child]) {
      expect(await isActive(t, root, c.accessToken)).toBe(false);
      expect((await requestToken(t, c)).status).toBe(401);
    }
  });

  it('narrowing scopes kills tokens that may carry the removed ones; new tokens carry the new set', async () => {
    const { root, agent } = await pair();
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ allowed_scopes: ['agents:read'] })
      .expect(200);
    expect(await isActive(t, root, agent.accessToken)).toBe(false);
    const fresh = await withFreshToken(t, agent);
    expect(claimsOf(fresh.accessToken).scope).toBe('agents:read');
    // widening back does not kill anything
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ allowed_scopes: SCOPES })
      .expect(200);
    expect(await isActive(t, root, fresh.accessToken)).toBe(true);
  });

  it('shortening expires_at kills tokens minted under the later one; extending kills nothing', async () => {
    const { root, agent } = await pair();
    const later = new Date(Date.now() + 7200_000).toISOString();
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ expires_at: later })
      .expect(200);
    expect(await isActive(t, root, agent.accessToken)).toBe(false); // none before: a first expiry shortens
    const underLater = await withFreshToken(t, agent);
    const even = new Date(Date.now() + 7300_000).toISOString();
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ expires_at: even })
      .expect(200);
    expect(await isActive(t, root, underLater.accessToken)).toBe(true);
    const soon = new Date(Date.now() + 120_000).toISOString();
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ expires_at: soon })
      .expect(200);
    expect(await isActive(t, root, underLater.accessToken)).toBe(false);
    const fresh = await withFreshToken(t, agent);
    expect(claimsOf(fresh.accessToken).exp * 1000).toBeLessThanOrEqual(Date.parse(soon));
  });
});

describe('revocation state is shared and durable', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp();
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('a revocation through one instance is visible at once through another sharing Redis', async () => {
    const root = await aTree(a);
    const agent = await aKey(a, root, await anAgent(a, root, { allowed_scopes: ['agents:read'] }));
    expect(await isActive(b, root, agent.accessToken)).toBe(true);
    expect(await guardStatus(b, agent.accessToken)).toBe(200);
    await revokeToken(a, root, agent.accessToken).expect(200);
    expect(await isActive(b, root, agent.accessToken)).toBe(false);
    expect(await guardStatus(b, agent.accessToken)).toBe(401);
    // and a cascade (credential revoked through b) is visible through a
    const second = await withFreshToken(a, agent);
    await request(b.http).delete(`${API}/credentials/${agent.credentialId}`).set(root.auth).expect(200);
    expect(await guardStatus(a, second.accessToken)).toBe(401);
  });

  it('survives a Redis flush: still inactive meanwhile, and once /ready is 200 again', async () => {
    const root = await aTree(a);
    const agent = await aKey(a, root, await anAgent(a, root, { allowed_scopes: ['agents:read'] }));
    const keyRevoked = await aKey(a, root, agent.agent);
    await revokeToken(a, root, agent.accessToken).expect(200);
    await request(a.http).delete(`${API}/credentials/${keyRevoked.credentialId}`).set(root.auth).expect(200);
    const live = (await withFreshToken(a, agent)).accessToken;

    const raw = rawRedis();
    const lockKey = redisKeyPrefix() + REVOCATION_KEYS.rebuildLock;
    try {
      // Hold the rebuild lock so the window without state can be observed, then "flush" this run's keys.
      expect(await raw.set(lockKey, 'test', 'PX', 30_000, 'NX')).toBe('OK');
      expect(await deleteWorkerKeys(raw, { except: [lockKey] })).toBeGreaterThan(0);
      await request(a.http).get('/ready').expect(503);
      for (const app of [a, b]) {
        expect((await introspect(app, root, agent.accessToken).expect(200)).body).toEqual({ active: false });
        expect(await guardStatus(app, keyRevoked.accessToken)).toBe(401);
        expect(await guardStatus(app, live)).toBe(200);
      }
      await raw.del(lockKey);
      await eventually(async () => (await request(a.http).get('/ready')).status === 200);
      await eventually(async () => (await request(b.http).get('/ready')).status === 200);
      for (const app of [a, b]) {
        expect(await isActive(app, root, agent.accessToken)).toBe(false);
        expect(await guardStatus(app, keyRevoked.accessToken)).toBe(401);
        expect(await isActive(app, root, live)).toBe(true);
      }
    } finally {
      await raw.del(lockKey);
      raw.disconnect();
    }
  });
});
