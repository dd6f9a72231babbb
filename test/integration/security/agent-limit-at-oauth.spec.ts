import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, basicAuth, requestToken } from '../../factories/agents';
import { withDb } from '../../factories/db';
import { introspect } from '../auth/auth-helpers';

const AGENT_LIMIT = 3;
const ATTEMPTS = 10;

/**
 * Finding 5 of issue 17 (CONTRACT §7): an authenticated client's requests at the OAuth endpoints count
 * against its agent's limit like any other call — after client authentication, so a bad client only ever
 * spends the IP's budget. The attack: an agent throttled to 3/min minted 10 tokens and 10 refresh families
 * in a row.
 */
describe('the per-agent limit at the OAuth endpoints (issue 17, finding 5)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const familiesOf = (agentId: string) =>
    withDb(async (db) => {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM refresh_families WHERE client_agent_id = $1`,
        [agentId],
      );
      return rows[0].n as number;
    });

  it('a throttled agent mints no more tokens or refresh families than its limit', async () => {
    const root = await aTree(t);
    const agent = await anAgent(t, root, {
      rate_limit_per_minute: AGENT_LIMIT,
      allowed_scopes: ['agents:read', 'tokens:introspect'],
    });
    // Wrong secrets for this agent's id: failed client authentication spends the IP's budget, not the agent's.
    for (let i = 0; i < 3; i++) {
      await request(t.http)
        .post(`${API}/auth/token`)
        .set(basicAuth(agent.id, 'aa_wrong_wrong'))
        .type('form')
        .send({ grant_type: 'client_credentials' })
        .expect(401);
    }
    const client = await aKey(t, root, agent); // mints one token: the first call of the agent's window

    const responses: request.Response[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      responses.push(await requestToken(t, client, { scope: 'agents:read offline_access' }));
      if (i === 0) expect(responses[0].body).toMatchObject({ scope: 'agents:read' });
    }
    const statuses = responses.map((r) => r.status);
    expect(statuses).toEqual([
      ...Array<number>(AGENT_LIMIT - 1).fill(200),
      ...Array<number>(ATTEMPTS - AGENT_LIMIT + 1).fill(429),
    ]);
    const limited = responses[AGENT_LIMIT - 1];
    expect(limited.body).toEqual({ error: 'rate_limited', error_description: expect.any(String) });
    expect(limited.headers['ratelimit-limit']).toBe(String(AGENT_LIMIT));
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await familiesOf(agent.id)).toBe(AGENT_LIMIT - 1);

    // Introspection and revocation by the same (authenticated) client count too.
    const token = responses[0].body.access_token as string;
    const introspection = await introspect(t, client, token);
    expect(introspection.status).toBe(429);
    // …while another agent of the tree is unaffected.
    await introspect(t, root, token).expect(200);
  });
});
