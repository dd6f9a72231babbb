import { createHmac } from 'node:crypto';
import request from 'supertest';
import { VERIFIED_KEY_CACHE_TTL_MS } from '@agentauth/auth';
import { deriveKey } from '@agentauth/core';
import { ApiKeyHasher } from '../../../libs/credentials/src/api-key.hasher';
import { createTestApp, type TestApp, twoTestApps } from '../../support/app';
import { rawRedis } from '../../support/raw-redis';
import { redisKeyPrefix } from '../../support/test-env';
import { aKey, anAgent, API, aTree, type Caller, requestToken } from '../../factories/agents';
import { freezeClock } from '../../factories/clock';

const SCOPES = ['agents:read', 'agents:write', 'credentials:read', 'credentials:write'];

/** The cache's Redis key for a (client_id, key) pair, as stored (with this worker's prefix). */
function entryKeyOf(t: TestApp, clientId: string, apiKey: string): string {
  return `${redisKeyPrefix()}vk:${createHmac('sha256', deriveKey(t.config.secretKey, 'verified-key-cache'))
    .update(`${clientId}:${apiKey}`)
    .digest('base64url')}`;
}

describe('verified-key cache', () => {
  let t: TestApp;
  let argon2: jest.SpyInstance;
  const raw = rawRedis();
  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(() => {
    argon2 = jest.spyOn(t.app.get(ApiKeyHasher), 'verify');
  });
  afterEach(() => {
    argon2.mockRestore();
  });
  afterAll(async () => {
    raw.disconnect();
    await t.close();
  });

  async function pair(): Promise<{ root: Caller; agent: Caller }> {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    return { root, agent };
  }

  const entryKey = (clientId: string, apiKey: string) => entryKeyOf(t, clientId, apiKey);

  it('answers a key verified moments ago without argon2', async () => {
    const { agent } = await pair(); // the factory's token request verified (and cached) the key
    argon2.mockClear();
    for (let i = 0; i < 3; i++) await requestToken(t, agent).expect(200);
    expect(argon2).not.toHaveBeenCalled();
    // a wrong secret is never answered by the cache
    await requestToken(t, { agent: agent.agent, apiKey: `${agent.apiKey.slice(0, -1)}x` }).expect(401);
    expect(argon2).toHaveBeenCalledTimes(1);
  });

  it('stores an HMAC of (client_id, key) → facts, never the key, for at most 60 s', async () => {
    const { root, agent } = await pair();
    const key = entryKey(agent.agent.id, agent.apiKey);
    const stored = await raw.get(key);
    expect(stored).not.toBeNull();
    const entry = JSON.parse(stored!);
    expect(entry).toEqual({
      v: 2,
      credential_id: agent.credentialId,
      agent_id: agent.agent.id,
      root_agent_id: root.agent.id,
      scopes: SCOPES.slice().sort(),
      allowed_scopes: SCOPES.slice().sort(),
      trust_level: 'delegated',
      version: null,
      capabilities: [],
      ancestor_ids: [root.agent.id, agent.agent.id],
      agent_expires_at: null,
      credential_valid_until: null,
      rotated: false,
      requires_dpop: false,
      cached_at: expect.any(Number),
    });
    const secret = agent.apiKey.split('_').slice(2).join('_');
    expect(stored).not.toContain(secret);
    expect(key).not.toContain(secret);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(VERIFIED_KEY_CACHE_TTL_MS);
  });

  it('trusts an entry for 60 s by the app clock, then verifies in full again', async () => {
    const frozen = freezeClock(t);
    try {
      const { agent } = await pair();
      argon2.mockClear();
      frozen.clock.advance(VERIFIED_KEY_CACHE_TTL_MS - 1);
      await requestToken(t, agent).expect(200);
      expect(argon2).not.toHaveBeenCalled();
      frozen.clock.advance(1);
      await requestToken(t, agent).expect(200);
      expect(argon2).toHaveBeenCalledTimes(1);
    } finally {
      frozen.restore();
    }
  });

  it.each([
    [
      'the key is revoked',
      async (root: Caller, agent: Caller) => {
        await request(t.http).delete(`${API}/credentials/${agent.credentialId}`).set(root.auth).expect(200);
      },
    ],
    [
      'the key is rotated without grace',
      async (root: Caller, agent: Caller) => {
        await request(t.http)
          .post(`${API}/credentials/${agent.credentialId}/rotate`)
          .set(root.auth)
          .expect(200);
      },
    ],
    [
      'the agent is suspended',
      async (root: Caller, agent: Caller) => {
        await request(t.http)
          .patch(`${API}/agents/${agent.agent.id}`)
          .set(root.auth)
          .send({ status: 'suspended' })
          .expect(200);
      },
    ],
    [
      'the agent is deactivated',
      async (root: Caller, agent: Caller) => {
        await request(t.http).delete(`${API}/agents/${agent.agent.id}`).set(root.auth).expect(200);
      },
    ],
    [
      'an ancestor is suspended',
      async (root: Caller, agent: Caller) => {
        // the agent's parent is the root's child here
        await request(t.http)
          .patch(`${API}/agents/${agent.agent.parent_agent_id}`)
          .set(root.auth)
          .send({ status: 'suspended' })
          .expect(200);
      },
    ],
  ])('refuses the key at once when %s, despite the cached entry', async (_what, change) => {
    const root = await aTree(t);
    const middle = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    const agent = await aKey(t, root, await anAgent(t, middle, { allowed_scopes: ['agents:read'] }));
    await requestToken(t, agent).expect(200);
    expect(await raw.exists(entryKey(agent.agent.id, agent.apiKey))).toBe(1);
    argon2.mockClear();
    await change(root, agent);
    const res = await requestToken(t, agent).expect(401);
    expect(res.body.error).toBe('invalid_client');
    expect(argon2).toHaveBeenCalledTimes(1); // the cache answered "miss", the full verification refused
  });

  it("during a rotation's grace the old key is verified once, then cached with the grace end", async () => {
    const { root, agent } = await pair();
    await request(t.http)
      .post(`${API}/credentials/${agent.credentialId}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 600 })
      .expect(200);
    argon2.mockClear();
    await requestToken(t, agent).expect(200); // the pre-rotation entry is no longer trusted
    await requestToken(t, agent).expect(200); // the new entry knows the rotation
    expect(argon2).toHaveBeenCalledTimes(1);
    const entry = JSON.parse((await raw.get(entryKey(agent.agent.id, agent.apiKey)))!);
    expect(entry.rotated).toBe(true);
    expect(entry.credential_valid_until).toBeGreaterThan(Date.now());
  });

  it('re-verifies after the agent changed (narrowing), and issues the narrowed scopes', async () => {
    const { root, agent } = await pair();
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ allowed_scopes: ['agents:read'] })
      .expect(200);
    argon2.mockClear();
    const res = await requestToken(t, agent).expect(200);
    expect(res.body.scope).toBe('agents:read');
    expect(argon2).toHaveBeenCalledTimes(1);
  });

  it('falls back to full verification when the shared entry is unreadable', async () => {
    const { agent } = await pair();
    await raw.set(entryKey(agent.agent.id, agent.apiKey), '{"v":1,"not":"an entry"}', 'PX', 30_000);
    // another API process, which has not seen this key yet, reads the shared entry
    const other = await createTestApp();
    const otherArgon2 = jest.spyOn(other.app.get(ApiKeyHasher), 'verify');
    try {
      await requestToken(other, agent).expect(200);
      expect(otherArgon2).toHaveBeenCalledTimes(1);
      await requestToken(other, agent).expect(200);
      expect(otherArgon2).toHaveBeenCalledTimes(1); // re-cached by the full verification
    } finally {
      await other.close();
    }
  });

  it('keeps the entries it used in memory: a hit reads the revocation state only, never the entry again', async () => {
    const { agent } = await pair();
    await requestToken(t, agent).expect(200);
    // the shared entry disappears (evicted, or dropped by another process): this process still trusts its own
    // copy, and argon2 does not run
    await raw.del(entryKey(agent.agent.id, agent.apiKey));
    argon2.mockClear();
    await requestToken(t, agent).expect(200);
    expect(argon2).not.toHaveBeenCalled();
  });

  it('shares entries between API processes through Redis', async () => {
    const { agent } = await pair();
    const other = await createTestApp();
    const otherArgon2 = jest.spyOn(other.app.get(ApiKeyHasher), 'verify');
    try {
      await requestToken(other, agent).expect(200);
      expect(otherArgon2).not.toHaveBeenCalled();
    } finally {
      await other.close();
    }
  });
});

/**
 * Two API processes (CONTRACT §3 "Revoke stops the key at once"): a key warmed in B's own memory is refused
 * by B the moment A revokes it — B's in-memory entry is never trusted without the shared revocation state.
 */
describe('verified-key cache across API processes', () => {
  const apps = twoTestApps();
  const raw = rawRedis();
  afterAll(() => raw.disconnect());

  it("a key cached in B's memory is refused by B as soon as A revokes its credential", async () => {
    const { a, b } = apps;
    const root = await aTree(a);
    const agent = await aKey(a, root, await anAgent(a, root, { allowed_scopes: SCOPES }));
    const argon2OnB = jest.spyOn(b.app.get(ApiKeyHasher), 'verify');
    // Warm B: its second request is a cache hit (no argon2).
    await requestToken(b, agent).expect(200);
    await requestToken(b, agent).expect(200);
    // Only B's in-memory copy is left: no shared entry for B to re-read, nothing to invalidate.
    await raw.del(entryKeyOf(b, agent.agent.id, agent.apiKey));
    argon2OnB.mockClear();
    await requestToken(b, agent).expect(200);
    expect(argon2OnB).not.toHaveBeenCalled();

    await request(a.http).delete(`${API}/credentials/${agent.credentialId}`).set(root.auth).expect(200);
    const refused = await requestToken(b, agent).expect(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(argon2OnB).toHaveBeenCalledTimes(1); // the hit became a miss; the full verification refused
  });
});
