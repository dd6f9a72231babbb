import request from 'supertest';
import { AgentCascadeRegistry } from '@agentauth/agents';
import { createTestApp, type TestApp } from '../../support/app';
import { deleteWorkerKeys, rawRedis } from '../../support/raw-redis';
import { redisKeyPrefix } from '../../support/test-env';
import { aKey, anAgent, API, aTree, type Caller, requestToken } from '../../factories/agents';
import { claimsOf, isActive } from './auth-helpers';

/**
 * The race the after-commit agent marker closes (docs/tokens.md, "Cascades and races"): a token request that
 * runs while a suspension's transaction is still open. It needs a second database connection during that
 * transaction, so it does not run on the embedded mode's one-connection PGlite (jest.config.js, NOT_EMBEDDED).
 */
describe('a suspension racing a token request', () => {
  let t: TestApp;
  /** Another API process (same PostgreSQL and Redis) that has never seen the agent's key. */
  let other: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    other = await createTestApp();
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  async function pair(): Promise<{ root: Caller; agent: Caller }> {
    const root = await aTree(t);
    const agent = await aKey(
      t,
      root,
      await anAgent(t, root, { allowed_scopes: ['agents:read', 'tokens:introspect'] }),
    );
    return { root, agent };
  }

  it('a token minted from a read that raced a suspension dies with it (the after-commit marker)', async () => {
    const { root, agent } = await pair();
    const raw = rawRedis();
    let racing: string | undefined;
    let suspendedAt: Date | undefined;
    const registry = t.app.get(AgentCascadeRegistry);
    // Inside the suspension's transaction, after the token cascade wrote its marker but before COMMIT,
    // another request mints a token through another process, with no cached verification anywhere: its
    // read does not see the suspension yet.
    registry.register(`race-${Date.now()}`, {
      onSuspended: async (_manager, ids, at) => {
        if (!ids.includes(agent.agent.id) || racing) return;
        suspendedAt = at;
        await deleteWorkerKeys(raw, { prefix: `${redisKeyPrefix()}vk:` });
        await new Promise((resolve) => setTimeout(resolve, 5));
        racing = (await requestToken(other, agent).expect(200)).body.access_token;
      },
    });
    try {
      await request(t.http)
        .patch(`${API}/agents/${agent.agent.id}`)
        .set(root.auth)
        .send({ status: 'suspended' })
        .expect(200);
      expect(racing).toBeDefined();
      // the in-transaction marker alone (at the change's time) would not have killed it…
      expect(claimsOf(racing!).auth_time as number).toBeGreaterThan(suspendedAt!.getTime() / 1000);
      // …the marker written after COMMIT does
      expect(await isActive(t, root, racing!)).toBe(false);
    } finally {
      raw.disconnect();
    }
  });
});
