import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, bearer, type Caller } from '../../factories/agents';
import { withDb } from '../../factories/db';
import { aDelegation, fromNow, HOUR } from '../../factories/delegations';
import { aPolicy } from '../../factories/policies';
import { exchangeToken } from '../auth/auth-helpers';
import { aDelegatedToken } from '../delegations/grant-helpers';

/**
 * Finding 2 of issue 17 (CONTRACT §2): governed fields change only if the token's `sub`, its `client_id` and
 * every `act` member are strict ancestors of the target. The attack: the root delegates `agents:read
 * agents:write` to its child C; C's agent_delegation token (`sub` = root, `act.sub` = C) rewrites C's own
 * limits — it used to get 200 because only `sub` was compared with the target.
 */
describe('governed fields with borrowed authority (issue 17, finding 2)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const SCOPES = ['agents:read', 'agents:write'];

  async function delegateTree(): Promise<{ root: Caller; c: Caller; sibling: Caller; delegated: string }> {
    const root = await aTree(t);
    const c = await aKey(
      t,
      root,
      await anAgent(t, root, { name: 'c', allowed_scopes: SCOPES, rate_limit_per_minute: 100 }),
    );
    const sibling = await aKey(t, root, await anAgent(t, root, { name: 'sibling', allowed_scopes: SCOPES }));
    const delegation = await aDelegation(t, root, {
      delegate_agent_id: c.agent.id,
      scopes: SCOPES,
      expires_at: fromNow(t, HOUR),
    });
    const { accessToken } = await aDelegatedToken(t, c, delegation.delegation_token as string);
    return { root, c, sibling, delegated: accessToken };
  }

  async function governedRow(agentId: string): Promise<Record<string, unknown>> {
    return withDb(async (db) => {
      const { rows } = await db.query(
        `SELECT allowed_scopes, expires_at, status, rate_limit_per_minute FROM agents WHERE id = $1`,
        [agentId],
      );
      return rows[0];
    });
  }

  const takeover = () => ({
    rate_limit_per_minute: null,
    allowed_scopes: ['agents:read'],
    expires_at: fromNow(t, 24 * HOUR),
  });

  it("refuses the delegate's own governed fields through a token acting for the root (403, nothing written)", async () => {
    const { c, delegated } = await delegateTree();
    const before = await governedRow(c.agent.id);

    for (const body of [
      takeover(),
      { rate_limit_per_minute: null },
      { allowed_scopes: ['agents:read'] },
      { expires_at: fromNow(t, 24 * HOUR) },
      { status: 'suspended' },
    ]) {
      const res = await request(t.http)
        .patch(`${API}/agents/${c.agent.id}`)
        .set(bearer(delegated))
        .send(body);
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/not_strict_ancestor$/);
    }
    expect(await governedRow(c.agent.id)).toEqual(before);
    // Deactivation is the last status change: refused the same way.
    await request(t.http).delete(`${API}/agents/${c.agent.id}`).set(bearer(delegated)).expect(403);
    expect(await governedRow(c.agent.id)).toEqual(before);
  });

  it("refuses a sibling's governed fields through the delegate's token; descriptive fields stay editable", async () => {
    const { c, sibling, delegated } = await delegateTree();
    const before = await governedRow(sibling.agent.id);
    await request(t.http)
      .patch(`${API}/agents/${sibling.agent.id}`)
      .set(bearer(delegated))
      .send({ rate_limit_per_minute: 5 })
      .expect(403);
    expect(await governedRow(sibling.agent.id)).toEqual(before);
    // What an agent may do to itself it may still do with the borrowed token.
    await request(t.http)
      .patch(`${API}/agents/${c.agent.id}`)
      .set(bearer(delegated))
      .send({ description: 'still mine to describe' })
      .expect(200);
  });

  it('refuses the same PATCH through an exchanged token whose sub is an ancestor', async () => {
    const { c, delegated } = await delegateTree();
    const exchanged = await exchangeToken(t, c, delegated).expect(200);
    const before = await governedRow(c.agent.id);
    const res = await request(t.http)
      .patch(`${API}/agents/${c.agent.id}`)
      .set(bearer(exchanged.body.access_token))
      .send(takeover());
    expect(res.status).toBe(403);
    expect(await governedRow(c.agent.id)).toEqual(before);
  });

  it('still lets a strict ancestor acting on its own authority change them (the contract answer)', async () => {
    const { root, c } = await delegateTree();
    const res = await request(t.http)
      .patch(`${API}/agents/${c.agent.id}`)
      .set(root.auth)
      .send({ rate_limit_per_minute: 7, allowed_scopes: ['agents:read'] })
      .expect(200);
    expect(res.body).toMatchObject({ rate_limit_per_minute: 7, allowed_scopes: ['agents:read'] });
  });

  it('the same shape in policies: a delegate cannot lift a deny policy on itself with borrowed authority', async () => {
    const root = await aTree(t);
    const scopes = ['agents:read', 'policies:read', 'policies:write'];
    const c = await aKey(t, root, await anAgent(t, root, { name: 'c', allowed_scopes: scopes }));
    const deny = await aPolicy(t, root, {
      name: 'no writes for c',
      subjects: [c.agent.id],
      actions: ['agents:read'],
    });
    const delegation = await aDelegation(t, root, {
      delegate_agent_id: c.agent.id,
      scopes: ['policies:read', 'policies:write'],
      expires_at: fromNow(t, HOUR),
    });
    const { accessToken } = await aDelegatedToken(t, c, delegation.delegation_token as string);
    const asDelegate = bearer(accessToken);

    const deleted = await request(t.http).delete(`${API}/policies/${deny.id}`).set(asDelegate);
    expect(deleted.status).toBe(403);
    expect(deleted.body.type).toMatch(/act_not_allowed$/);
    await request(t.http)
      .patch(`${API}/policies/${deny.id}`)
      .set(asDelegate)
      .send({ enabled: false })
      .expect(403);
    await request(t.http)
      .post(`${API}/policies`)
      .set(asDelegate)
      .send({ name: 'lift', effect: 'allow', subjects: [c.agent.id], actions: ['*'] })
      .expect(403);
    const kept = await request(t.http).get(`${API}/policies/${deny.id}`).set(root.auth).expect(200);
    expect(kept.body).toMatchObject({ enabled: true, subjects: [c.agent.id] });
  });
});
