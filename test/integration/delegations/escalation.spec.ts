import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { CredentialsService } from '@agentauth/credentials';
import { DelegationsService } from '@agentauth/delegations';
import type { Principal } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { treeSnapshot, withDb } from '../../factories/db';
import { delegatedPrincipal, delegationRows, fromNow, HOUR, MINUTE } from '../../factories/delegations';
import { aThreeHopChain, type ChainFixture } from './chain-fixture';

/**
 * CONTRACT §6: every escalation is refused (403) and writes nothing; so are the other refusals (404, 409,
 * 400). Each case compares the tree's delegation, agent and credential rows and the revocation table
 * before and after.
 */
describe('delegation escalation attempts are refused with nothing written', () => {
  let t: TestApp;
  let c: ChainFixture;
  let other: Caller; // another tree
  let suspended: Caller;
  let deactivated: Caller;
  let narrowOrchestratorKey: Caller; // the orchestrator through a key with delegations:write only
  let readOnlyRootKey: Caller; // the root through a key without delegations:write

  beforeAll(async () => {
    t = await createTestApp();
    c = await aThreeHopChain(t);
    other = await aTree(t);
    const agent = async (body: Record<string, unknown> = {}) =>
      aKey(t, c.root, await anAgent(t, c.root, { allowed_scopes: ['agents:read'], ...body }));
    suspended = await agent();
    deactivated = await agent();
    await request(t.http)
      .patch(`${API}/agents/${suspended.agent.id}`)
      .set(c.root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    await request(t.http).delete(`${API}/agents/${deactivated.agent.id}`).set(c.root.auth).expect(200);
    narrowOrchestratorKey = await aKey(t, c.root, c.orchestrator.agent, { scopes: ['delegations:write'] });
    readOnlyRootKey = await aKey(t, c.root, c.root.agent, { scopes: ['delegations:read', 'agents:read'] });
  });
  afterAll(async () => {
    await t.close();
  });

  async function snapshot() {
    const revocations = await withDb(
      async (db) => (await db.query(`SELECT count(*)::int AS n FROM revocations`)).rows[0].n as number,
    );
    return {
      delegations: await delegationRows(c.root.agent.id),
      tree: await treeSnapshot(c.root.agent.id),
      revocations,
    };
  }

  type Attempt = {
    name: string;
    caller: () => Caller;
    body: () => Record<string, unknown>;
    status: number;
    type: string;
    /** Which rule refused it, when several could. */
    detail?: RegExp;
  };

  const attempts: Attempt[] = [
    {
      name: 'scopes wider than the parent delegation (which the calling key does hold)',
      caller: () => c.worker,
      body: () => ({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read', 'credentials:read'],
      }),
      status: 403,
      type: 'scope_escalation',
      detail: /parent delegation's effective scopes: credentials:read$/,
    },
    {
      name: "a first hop with scopes beyond the delegator's allowed_scopes",
      caller: () => c.orchestrator,
      body: () => ({ delegate_agent_id: c.sibling.agent.id, scopes: ['agents:write'] }),
      status: 403,
      type: 'scope_escalation',
      detail: /delegator's allowed_scopes: agents:write$/,
    },
    {
      name: 'scopes the delegator holds but the calling key does not',
      caller: () => narrowOrchestratorKey,
      body: () => ({ delegate_agent_id: c.sibling.agent.id, scopes: ['agents:read'] }),
      status: 403,
      type: 'scope_escalation',
      detail: /calling token: agents:read$/,
    },
    {
      name: "an expiry later than the parent delegation's",
      caller: () => c.worker,
      body: () => ({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        expires_at: new Date(Date.parse(c.d2.expires_at) + MINUTE).toISOString(),
      }),
      status: 403,
      type: 'lifetime_escalation',
    },
    {
      name: "an expiry later than the delegate agent's",
      caller: () => c.worker,
      body: () => ({
        delegate_agent_id: c.ephemeral.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        expires_at: fromNow(t, 3 * HOUR), // the ephemeral agent expires in 2 h
      }),
      status: 403,
      type: 'lifetime_escalation',
    },
    {
      name: "a re-delegation deeper than the chain's max_depth",
      caller: () => c.ephemeral,
      body: () => ({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d3.id,
        scopes: ['agents:read'],
        expires_at: fromNow(t, 10 * MINUTE),
      }),
      status: 403,
      type: 'max_depth_exceeded',
    },
    {
      name: "a max_depth above the parent's",
      caller: () => c.worker,
      body: () => ({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        max_depth: 4,
      }),
      status: 403,
      type: 'depth_escalation',
    },
    {
      name: "re-delegating someone else's delegation the caller can see",
      caller: () => c.orchestrator, // d2's delegator, not its delegate
      body: () => ({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
      }),
      status: 403,
      type: 'not_delegate',
    },
    {
      name: "re-delegating someone else's delegation the caller cannot see",
      caller: () => c.sibling,
      body: () => ({
        delegate_agent_id: c.ephemeral.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
      }),
      status: 404,
      type: 'not_found',
    },
    {
      name: 'a delegate in another tree',
      caller: () => c.root,
      body: () => ({ delegate_agent_id: other.agent.id, scopes: ['agents:read'] }),
      status: 404,
      type: 'not_found',
    },
    {
      name: 'an unknown delegate',
      caller: () => c.root,
      body: () => ({ delegate_agent_id: randomUUID(), scopes: ['agents:read'] }),
      status: 404,
      type: 'not_found',
    },
    {
      name: 'a suspended delegate',
      caller: () => c.root,
      body: () => ({ delegate_agent_id: suspended.agent.id, scopes: ['agents:read'] }),
      status: 409,
      type: 'agent_inactive',
    },
    {
      name: 'a deactivated delegate',
      caller: () => c.root,
      body: () => ({ delegate_agent_id: deactivated.agent.id, scopes: ['agents:read'] }),
      status: 409,
      type: 'agent_inactive',
    },
    {
      name: 'a delegation to oneself',
      caller: () => c.orchestrator,
      body: () => ({ delegate_agent_id: c.orchestrator.agent.id, scopes: ['agents:read'] }),
      status: 400,
      type: 'self_delegation',
    },
    {
      name: 'a re-delegation back to a party of the chain',
      caller: () => c.worker,
      body: () => ({
        delegate_agent_id: c.orchestrator.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
      }),
      status: 400,
      type: 'delegation_cycle',
    },
    {
      name: 'an expiry in the past',
      caller: () => c.root,
      body: () => ({
        delegate_agent_id: c.orchestrator.agent.id,
        scopes: ['agents:read'],
        expires_at: '2020-01-01T00:00:00Z',
      }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'an expiry beyond MAX_DELEGATION_LIFETIME_SECONDS',
      caller: () => c.root,
      body: () => ({
        delegate_agent_id: c.orchestrator.agent.id,
        scopes: ['agents:read'],
        expires_at: fromNow(t, t.config.maxDelegationLifetimeSeconds * 1000 + MINUTE),
      }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: "a max_depth below the delegation's own depth",
      caller: () => c.worker,
      body: () => ({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        max_depth: 2,
      }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'a key without delegations:write',
      caller: () => readOnlyRootKey,
      body: () => ({ delegate_agent_id: c.orchestrator.agent.id, scopes: ['agents:read'] }),
      status: 403,
      type: 'insufficient_scope',
    },
  ];

  it.each(attempts.map((a) => [a.name, a]))('refuses %s', async (_name, attempt) => {
    const before = await snapshot();
    const res = await request(t.http)
      .post(`${API}/delegations`)
      .set(attempt.caller().auth)
      .send({ expires_at: fromNow(t, 30 * MINUTE), ...attempt.body() });
    expect({ status: res.status, type: res.body.type }).toEqual({
      status: attempt.status,
      type: `urn:agentauth:problem:${attempt.type}`,
    });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (attempt.detail) expect(res.body.detail).toMatch(attempt.detail);
    expect(await snapshot()).toEqual(before);
  });

  it('allows exactly the boundary values: equal expiry, equal max_depth, equal scopes', async () => {
    const res = await request(t.http)
      .post(`${API}/delegations`)
      .set(c.worker.auth)
      .send({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: c.d2.scopes,
        expires_at: c.d2.expires_at,
        max_depth: 3,
      })
      .expect(201);
    expect(res.body).toMatchObject({
      depth: 3,
      max_depth: 3,
      scopes: c.d2.scopes,
      expires_at: c.d2.expires_at,
    });
  });

  describe('a token carrying act (CONTRACT §5)', () => {
    // What an access token minted from d2 by the agent_delegation grant will carry: sub = root, actor = worker.
    const principal = (): Principal =>
      delegatedPrincipal(c.d2, c.root.agent.id, ['agents:read', 'delegations:read', 'delegations:write']);
    const service = () => t.app.get(DelegationsService);

    async function refusedWithNothingWritten(attempt: () => Promise<unknown>, type: string) {
      const before = await snapshot();
      await expect(attempt()).rejects.toMatchObject({ code: type });
      expect(await snapshot()).toEqual(before);
    }

    it('re-delegates its own delegation, as its delegate', async () => {
      const { delegation, delegationToken } = await service().create(principal(), {
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        expires_at: fromNow(t, 10 * MINUTE),
      });
      expect(delegation).toMatchObject({
        delegatorAgentId: c.worker.agent.id,
        delegateAgentId: c.sibling.agent.id,
        originalDelegatorId: c.root.agent.id,
        parentDelegationId: c.d2.id,
        depth: 3,
      });
      expect(delegationToken.split('.')).toHaveLength(3);
    });

    it('creates no first hop and re-delegates nothing but its own delegation_id', async () => {
      const base = {
        delegate_agent_id: c.sibling.agent.id,
        scopes: ['agents:read'],
        expires_at: fromNow(t, MINUTE),
      };
      await refusedWithNothingWritten(() => service().create(principal(), base), 'act_not_allowed');
      await refusedWithNothingWritten(
        () => service().create(principal(), { ...base, parent_delegation_id: c.d1.id }),
        'act_not_allowed',
      );
      await refusedWithNothingWritten(
        () => service().create(principal(), { ...base, parent_delegation_id: c.d3.id }),
        'act_not_allowed',
      );
      // An exchanged token carries act but no delegation: it creates no delegation at all.
      const exchanged = { ...principal(), delegationId: undefined };
      await refusedWithNothingWritten(
        () => service().create(exchanged, { ...base, parent_delegation_id: c.d2.id }),
        'act_not_allowed',
      );
    });

    it('hands out nothing beyond its own scopes', async () => {
      const narrow = { ...principal(), scopes: ['agents:read', 'delegations:write'] };
      await refusedWithNothingWritten(
        () =>
          service().create(narrow, {
            delegate_agent_id: c.sibling.agent.id,
            parent_delegation_id: c.d2.id,
            scopes: ['delegations:read'], // in d2, not in the token
            expires_at: fromNow(t, MINUTE),
          }),
        'scope_escalation',
      );
    });

    it('mints no credential', async () => {
      const credentials = t.app.get(CredentialsService);
      const withCredentialsWrite = { ...principal(), scopes: ['credentials:write', 'agents:read'] };
      await refusedWithNothingWritten(
        () => credentials.create(withCredentialsWrite, { agent_id: c.worker.agent.id }),
        'act_not_allowed',
      );
    });

    it("revokes only its own delegation or one below it, never the chain's other delegations", async () => {
      await refusedWithNothingWritten(() => service().revoke(principal(), c.d1.id), 'act_not_allowed');
      // Visible to `sub` (the root), but not below the token's delegation.
      const elsewhere = await service().create(
        {
          actorAgentId: c.root.agent.id,
          subjectAgentId: c.root.agent.id,
          rootAgentId: c.root.agent.id,
          scopes: ['agents:read', 'delegations:write'],
        },
        { delegate_agent_id: c.sibling.agent.id, scopes: ['agents:read'], expires_at: fromNow(t, MINUTE) },
      );
      await refusedWithNothingWritten(
        () => service().revoke(principal(), elsewhere.delegation.id),
        'act_not_allowed',
      );
    });
  });
});
