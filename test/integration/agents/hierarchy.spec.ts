import request from 'supertest';
import { AgentsService } from '@agentauth/agents';
import { Clock } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import {
  type AgentJson,
  aKey,
  anAgent,
  API,
  aTree,
  authStatus,
  type Caller,
  claimsOf,
  withFreshToken,
} from '../../factories/agents';
import { delegationRevokedByCascade, eventsOfResponse, keyRevokedByCascade } from '../../factories/audit';
import { aDelegation, fromNow, MINUTE } from '../../factories/delegations';
import { auditEventsAbout, auditEventsOf, withDb } from '../../factories/db';

const ORCHESTRATOR_SCOPES = ['agents:read', 'agents:write', 'credentials:read', 'credentials:write'];

/** root → orchestrator → tool worker → ephemeral, each level with its own key created by its parent. */
async function fourLevels(t: TestApp) {
  const root = await aTree(t);
  const orchestrator = await aKey(
    t,
    root,
    await anAgent(t, root, { name: 'orchestrator', allowed_scopes: ORCHESTRATOR_SCOPES }),
  );
  const worker = await aKey(
    t,
    orchestrator,
    await anAgent(t, orchestrator, {
      name: 'tool worker',
      allowed_scopes: ['agents:read', 'agents:write', 'credentials:write'],
    }),
  );
  const expiresAt = new Date(Date.now() + 3600_000).toISOString();
  const ephemeral = await aKey(
    t,
    worker,
    await anAgent(t, worker, {
      name: 'single task',
      trust_level: 'ephemeral',
      expires_at: expiresAt,
      allowed_scopes: ['agents:read'],
    }),
  );
  return { root, orchestrator, worker, ephemeral };
}

async function listAll(
  t: TestApp,
  caller: Caller,
  query: Record<string, string | number> = {},
): Promise<AgentJson[]> {
  const items: AgentJson[] = [];
  let cursor: string | undefined;
  do {
    const res = await request(t.http)
      .get(`${API}/agents`)
      .query({ ...query, ...(cursor ? { cursor } : {}) })
      .set(caller.auth)
      .expect(200);
    items.push(...(res.body.items as AgentJson[]));
    cursor = res.body.next_cursor ?? undefined;
  } while (cursor);
  return items;
}

describe('agent hierarchy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('builds root → orchestrator → tool worker → ephemeral with attenuated scopes and trust levels', async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    expect([root, orchestrator, worker, ephemeral].map((c) => [c.agent.trust_level, c.agent.depth])).toEqual([
      ['root', 0],
      ['delegated', 1],
      ['delegated', 2],
      ['ephemeral', 3],
    ]);
    expect(ephemeral.agent.parent_agent_id).toBe(worker.agent.id);
    expect(new Set([orchestrator, worker, ephemeral].map((c) => c.agent.root_agent_id))).toEqual(
      new Set([root.agent.id]),
    );
    expect(ephemeral.agent.allowed_scopes).toEqual(['agents:read']);
  });

  it('lets each caller see exactly its own subtree, page by page', async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    const ids = (callers: Caller[]) => callers.map((c) => c.agent.id).sort();
    const seen = async (caller: Caller) => (await listAll(t, caller, { limit: 1 })).map((a) => a.id).sort();
    expect(await seen(root)).toEqual(ids([root, orchestrator, worker, ephemeral]));
    expect(await seen(orchestrator)).toEqual(ids([orchestrator, worker, ephemeral]));
    expect(await seen(worker)).toEqual(ids([worker, ephemeral]));
    expect(await seen(ephemeral)).toEqual(ids([ephemeral]));

    // creation order, no duplicates, a cursor only while more remain
    const first = await request(t.http).get(`${API}/agents`).query({ limit: 3 }).set(root.auth).expect(200);
    expect(first.body.items.map((a: AgentJson) => a.id)).toEqual(
      [root, orchestrator, worker].map((c) => c.agent.id),
    );
    const second = await request(t.http)
      .get(`${API}/agents`)
      .query({ limit: 3, cursor: first.body.next_cursor })
      .set(root.auth)
      .expect(200);
    expect(second.body).toEqual({
      items: [expect.objectContaining({ id: ephemeral.agent.id })],
      next_cursor: null,
    });
  });

  it('filters by status, trust_level and parent_agent_id within the subtree', async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    expect((await listAll(t, root, { trust_level: 'ephemeral' })).map((a) => a.id)).toEqual([
      ephemeral.agent.id,
    ]);
    expect((await listAll(t, root, { parent_agent_id: orchestrator.agent.id })).map((a) => a.id)).toEqual([
      worker.agent.id,
    ]);
    await request(t.http)
      .patch(`${API}/agents/${worker.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect((await listAll(t, root, { status: 'suspended' })).map((a) => a.id)).toEqual([worker.agent.id]);
    expect(
      (await listAll(t, orchestrator, { status: 'active', trust_level: 'delegated' })).map((a) => a.id),
    ).toEqual([orchestrator.agent.id]);
  });

  it('cascades one DELETE to the whole subtree: every status deactivated, every key revoked and refused', async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    const extraKey = await aKey(t, orchestrator, worker.agent);
    const res = await request(t.http)
      .delete(`${API}/agents/${orchestrator.agent.id}`)
      .set(root.auth)
      .expect(200);
    expect(res.body).toEqual({
      deactivated_agent_ids: [orchestrator, worker, ephemeral].map((c) => c.agent.id),
    });

    for (const caller of [orchestrator, worker, ephemeral]) {
      const agent = await request(t.http).get(`${API}/agents/${caller.agent.id}`).set(root.auth).expect(200);
      expect(agent.body.status).toBe('deactivated');
    }
    const credentials = await withDb(
      async (db) =>
        (
          await db.query(`SELECT status, revoked_at FROM credentials WHERE agent_id = ANY($1::uuid[])`, [
            [orchestrator, worker, ephemeral].map((c) => c.agent.id),
          ])
        ).rows,
    );
    expect(credentials).toHaveLength(4);
    expect(credentials.every((c) => c.status === 'revoked' && c.revoked_at !== null)).toBe(true);
    for (const key of [orchestrator, worker, ephemeral, extraKey]) expect(await authStatus(t, key)).toBe(401);
    expect(await authStatus(t, root)).toBe(200);

    // The request's own event names every agent it deactivated; each revoked key has its own event.
    const { events, shared: byRoot } = await eventsOfResponse(res, root.agent.id, root.agent.id);
    const cause = { cause: 'agent_deactivated', cause_agent_id: orchestrator.agent.id } as const;
    expect(events).toHaveLength(5);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ...byRoot,
          event_type: 'agent.deactivated',
          outcome: 'success',
          target_id: orchestrator.agent.id,
          details: { deactivated_count: 3, deactivated_agent_ids: res.body.deactivated_agent_ids },
        }),
        ...[orchestrator, worker, ephemeral, extraKey].map((key) => keyRevokedByCascade(key, cause, byRoot)),
      ]),
    );

    // deactivation is final and idempotent
    const again = await request(t.http)
      .delete(`${API}/agents/${orchestrator.agent.id}`)
      .set(root.auth)
      .expect(200);
    expect(again.body).toEqual({ deactivated_agent_ids: [] });
    await request(t.http)
      .patch(`${API}/agents/${worker.agent.id}`)
      .set(root.auth)
      .send({ status: 'active' })
      .expect(409);
    await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'late', parent_agent_id: worker.agent.id })
      .expect(409);
  });

  it("records an expiry (maintenance's expireDue) like a deactivation: agent.expired, then each revoked key and delegation", async () => {
    const root = await aTree(t);
    const scopes = ['agents:read'];
    const expiring = await aKey(
      t,
      root,
      await anAgent(t, root, { allowed_scopes: scopes, expires_at: fromNow(t, MINUTE) }),
    );
    const below = await aKey(t, root, await anAgent(t, root, { parent_agent_id: expiring.agent.id }));
    const delegation = await aDelegation(t, root, {
      delegate_agent_id: expiring.agent.id,
      scopes,
      expires_at: fromNow(t, MINUTE / 2),
    });
    const clock = t.app.get(Clock);
    clock.advance(2 * MINUTE);
    const expiredAt = clock.nowMs();
    try {
      await t.app.get(AgentsService).expireDue();
    } finally {
      clock.reset();
    }

    const events = (
      await auditEventsAbout([expiring.agent.id, expiring.credentialId, below.credentialId, delegation.id])
    ).filter((e) => (e.occurred_at as Date).getTime() >= expiredAt); // not their creation
    const byMaintenance = {
      actor_agent_id: null,
      root_agent_id: root.agent.id,
      request_id: null,
      ip: null,
    };
    const cause = { cause: 'agent_expired', cause_agent_id: expiring.agent.id } as const;
    // agent.expired first (seq), then one event per object the cascade revoked.
    expect(events).toHaveLength(4);
    expect(events[0]).toEqual(
      expect.objectContaining({
        ...byMaintenance,
        event_type: 'agent.expired',
        outcome: 'success',
        target_type: 'agent',
        target_id: expiring.agent.id,
        details: { deactivated_count: 2, deactivated_agent_ids: [expiring.agent.id, below.agent.id] },
      }),
    );
    expect(events.slice(1)).toEqual(
      expect.arrayContaining([
        keyRevokedByCascade(expiring, cause, byMaintenance),
        keyRevokedByCascade(below, cause, byMaintenance),
        delegationRevokedByCascade(delegation, cause, byMaintenance),
      ]),
    );
  });

  it('lets an agent deactivate strict descendants only (never itself, a root included)', async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    const self = await request(t.http).delete(`${API}/agents/${root.agent.id}`).set(root.auth).expect(403);
    expect(self.body.type).toBe('urn:agentauth:problem:not_strict_ancestor');
    await request(t.http).delete(`${API}/agents/${orchestrator.agent.id}`).set(orchestrator.auth).expect(403);
    await request(t.http).delete(`${API}/agents/${orchestrator.agent.id}`).set(worker.auth).expect(404);
    const ok = await request(t.http)
      .delete(`${API}/agents/${ephemeral.agent.id}`)
      .set(worker.auth)
      .expect(200);
    expect(ok.body.deactivated_agent_ids).toEqual([ephemeral.agent.id]);
  });

  it('narrows every descendant (and their keys) when an ancestor narrows allowed_scopes, in one request', async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    const res = await request(t.http)
      .patch(`${API}/agents/${orchestrator.agent.id}`)
      .set(root.auth)
      .send({ allowed_scopes: ['agents:read', 'credentials:read'] })
      .expect(200);
    expect(res.body.allowed_scopes).toEqual(['agents:read', 'credentials:read']);
    const scopesOf = async (c: Caller) =>
      (await request(t.http).get(`${API}/agents/${c.agent.id}`).set(root.auth).expect(200)).body
        .allowed_scopes;
    expect(await scopesOf(worker)).toEqual(['agents:read']);
    expect(await scopesOf(ephemeral)).toEqual(['agents:read']);
    const keys = await request(t.http)
      .get(`${API}/credentials`)
      .query({ agent_id: worker.agent.id })
      .set(root.auth)
      .expect(200);
    expect(keys.body.items.map((k: { scopes: string[] }) => k.scopes)).toEqual([['agents:read']]);
    // the worker's outstanding token (minted with the wider scopes) died with the narrowing…
    const stale = await request(t.http).post(`${API}/agents`).set(worker.auth).send({ name: 'x' });
    expect(stale.status).toBe(401);
    // …and a new token from its key can no longer write
    const fresh = await withFreshToken(t, worker);
    await request(t.http).post(`${API}/agents`).set(fresh.auth).send({ name: 'x' }).expect(403);
    expect((await auditEventsOf(res.headers['x-request-id']))[0]).toMatchObject({
      event_type: 'agent.updated',
      details: { fields: ['allowed_scopes'], narrowed_descendants: 1 }, // the worker; the ephemeral already fit
    });
  });

  it("pulls every descendant's expiry in when an ancestor gets an earlier one", async () => {
    const { root, orchestrator, worker, ephemeral } = await fourLevels(t);
    const soon = new Date(Date.now() + 600_000).toISOString();
    await request(t.http)
      .patch(`${API}/agents/${orchestrator.agent.id}`)
      .set(root.auth)
      .send({ expires_at: soon })
      .expect(200);
    for (const c of [orchestrator, worker, ephemeral]) {
      const agent = await request(t.http).get(`${API}/agents/${c.agent.id}`).set(root.auth).expect(200);
      expect(agent.body.expires_at).toBe(soon);
    }
    // tokens minted under the old, later expiry died with the change; a new token ends by the new expiry
    await request(t.http).get(`${API}/agents`).set(orchestrator.auth).expect(401);
    const fresh = await withFreshToken(t, orchestrator);
    expect(claimsOf(fresh.accessToken).exp * 1000).toBeLessThanOrEqual(Date.parse(soon));
    // a new child under an expiring agent inherits its expiry
    const child = await anAgent(t, fresh, {});
    expect(child.expires_at).toBe(soon);
  });

  it('lets an agent edit its own descriptive fields, and an ancestor edit them too', async () => {
    const { root, worker } = await fourLevels(t);
    const own = await request(t.http)
      .patch(`${API}/agents/${worker.agent.id}`)
      .set(worker.auth)
      .send({
        name: 'renamed',
        description: 'does tools',
        version: '2.0',
        capabilities: ['tools.run'],
        metadata: { team: 'x' },
      })
      .expect(200);
    expect(own.body).toMatchObject({
      name: 'renamed',
      description: 'does tools',
      version: '2.0',
      capabilities: ['tools.run'],
    });
    const byRoot = await request(t.http)
      .patch(`${API}/agents/${worker.agent.id}`)
      .set(root.auth)
      .send({ description: null })
      .expect(200);
    expect(byRoot.body.description).toBeNull();
    expect(byRoot.body.metadata).toEqual({ team: 'x' });
  });

  it('stores SQL metacharacters verbatim (parameterized) and the tables survive', async () => {
    const root = await aTree(t);
    const name = "x'; DROP TABLE agents;--";
    const agent = await anAgent(t, root, { name, description: 'Robert"); DELETE FROM credentials; --' });
    const got = await request(t.http).get(`${API}/agents/${agent.id}`).set(root.auth).expect(200);
    expect(got.body.name).toBe(name);
    expect(await authStatus(t, root)).toBe(200);
  });

  it('keeps the hierarchy to 50 levels and answers activity for a deep chain in one query', async () => {
    const root = await aTree(t);
    let parent = root.agent;
    for (let depth = 1; depth <= 50; depth++) parent = await anAgent(t, root, { parent_agent_id: parent.id });
    expect(parent.depth).toBe(50);
    const refused = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'too deep', parent_agent_id: parent.id })
      .expect(400);
    expect(refused.body.type).toBe('urn:agentauth:problem:max_depth_exceeded');

    const agents = t.app.get(AgentsService);
    expect((await agents.ancestorIds(parent.id))[0]).toBe(root.agent.id);
    expect(await agents.ancestorIds(parent.id)).toHaveLength(50);
    expect(await agents.isInSubtree(root.agent.id, parent.id)).toBe(true);
    expect(await agents.isInSubtree(parent.id, root.agent.id)).toBe(false);
    expect(await agents.getActivity(parent.id)).toMatchObject({ active: true });
  });
});
