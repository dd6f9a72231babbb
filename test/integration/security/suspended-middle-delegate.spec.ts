import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, claimsOf } from '../../factories/agents';
import { withDb } from '../../factories/db';
import { aDelegation, fromNow, HOUR } from '../../factories/delegations';
import { guardStatus, introspect, isActive } from '../auth/auth-helpers';
import { aDelegatedToken, refreshGrant } from '../delegations/grant-helpers';

/**
 * Finding 4 of issue 17 (CONTRACT §2): suspension ends, for good, every token and refresh family in which
 * the agent or a descendant is `sub`, `client_id` or a member of `act`. The attack: R → B → C
 * re-delegation, B and C siblings under R; C holds an access and a refresh token with `act` = C, B. B is
 * suspended and re-activated — the refresh token used to introspect active again and refresh (200).
 */
describe('suspending a middle delegate (issue 17, finding 4)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const SCOPES = ['agents:read', 'delegations:read', 'delegations:write'];

  it('revokes the tokens and refresh family minted through B; re-activating B revives nothing', async () => {
    const root = await aTree(t);
    const b = await aKey(t, root, await anAgent(t, root, { name: 'b', allowed_scopes: SCOPES }));
    const c = await aKey(t, root, await anAgent(t, root, { name: 'c', allowed_scopes: SCOPES }));
    const d1 = await aDelegation(t, root, {
      delegate_agent_id: b.agent.id,
      scopes: SCOPES,
      expires_at: fromNow(t, 2 * HOUR),
      max_depth: 2,
    });
    const d2 = await aDelegation(t, b, {
      delegate_agent_id: c.agent.id,
      parent_delegation_id: d1.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, HOUR),
    });
    const tokens = await aDelegatedToken(t, c, d2.delegation_token as string);
    expect(claimsOf(tokens.accessToken)).toMatchObject({
      sub: root.agent.id,
      client_id: c.agent.id,
      act: { sub: c.agent.id, act: { sub: b.agent.id } },
    });
    expect(await isActive(t, root, tokens.refreshToken)).toBe(true);

    const setStatus = (status: string) =>
      request(t.http).patch(`${API}/agents/${b.agent.id}`).set(root.auth).send({ status }).expect(200);
    await setStatus('suspended');
    expect(await isActive(t, root, tokens.accessToken)).toBe(false);
    expect(await isActive(t, root, tokens.refreshToken)).toBe(false);
    await setStatus('active');

    // For good: nothing minted through B before its suspension comes back.
    const refreshIntrospection = await introspect(t, root, tokens.refreshToken).expect(200);
    expect(refreshIntrospection.body).toEqual({ active: false });
    expect(await isActive(t, root, tokens.accessToken)).toBe(false);
    expect(await guardStatus(t, tokens.accessToken)).toBe(401);
    const refreshed = await refreshGrant(t, c, tokens.refreshToken);
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.error).toBe('invalid_grant');

    const family = await withDb(async (db) => {
      const { rows } = await db.query(
        `SELECT status, revoked_reason, chain_agent_ids FROM refresh_families WHERE delegation_id = $1`,
        [d2.id],
      );
      return rows;
    });
    expect(family).toEqual([
      expect.objectContaining({ status: 'revoked', revoked_reason: 'agent_suspended' }),
    ]);
    expect([...family[0].chain_agent_ids].sort()).toEqual([root.agent.id, b.agent.id, c.agent.id].sort());

    // After re-activation the chain works again for NEW grants: only the old tokens stay dead.
    const fresh = await aDelegatedToken(t, c, d2.delegation_token as string);
    expect(await isActive(t, root, fresh.refreshToken)).toBe(true);
    await refreshGrant(t, c, fresh.refreshToken).expect(200);
  });

  it('leaves families that do not pass through the suspended agent alone', async () => {
    const root = await aTree(t);
    const b = await aKey(t, root, await anAgent(t, root, { name: 'b', allowed_scopes: SCOPES }));
    const c = await aKey(t, root, await anAgent(t, root, { name: 'c', allowed_scopes: SCOPES }));
    const direct = await aDelegation(t, root, {
      delegate_agent_id: c.agent.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, HOUR),
    });
    const tokens = await aDelegatedToken(t, c, direct.delegation_token as string);
    await request(t.http)
      .patch(`${API}/agents/${b.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect(await isActive(t, root, tokens.refreshToken)).toBe(true);
    expect(await isActive(t, root, tokens.accessToken)).toBe(true);
  });
});
