import request from 'supertest';
import { Clock } from '@agentauth/core';
import { DelegationsService } from '@agentauth/delegations';
import { RevocationService } from '@agentauth/revocation';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, type Caller } from '../../factories/agents';
import { delegationRevokedByCascade, eventsOfResponse, keyRevokedByCascade } from '../../factories/audit';
import { withDb } from '../../factories/db';
import {
  aDelegation,
  delegatedPrincipal,
  type DelegationJson,
  delegationRows,
  delegationStatuses,
  fromNow,
  HOUR,
  MINUTE,
} from '../../factories/delegations';
import { aThreeHopChain } from './chain-fixture';

/** CONTRACT §6 / §2: revocation cascades down the chain; agent deactivation cascades to delegations. */
describe('delegation revocation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const del = (caller: Caller, id: string) =>
    request(t.http).delete(`${API}/delegations/${id}`).set(caller.auth);
  const chainOf = async (caller: Caller, id: string) =>
    (await request(t.http).get(`${API}/delegations/${id}/chain`).set(caller.auth).expect(200)).body;
  /** Is the `delegation` marker set (what introspection and the Bearer guard check for a token's delegation_id)? */
  const markerSet = (id: string) =>
    t.app.get(RevocationService).isRevoked([{ kind: 'delegation', id }], t.app.get(Clock).nowSeconds());
  const markers = async (ids: string[]) => Promise.all(ids.map(markerSet));

  it('revoking the middle delegation revokes the tail and leaves siblings untouched', async () => {
    const c = await aThreeHopChain(t);
    // Another re-delegation of d2 (revoked with it), a sibling of d2 and its child (both untouched).
    const d3b = await aDelegation(t, c.worker, {
      delegate_agent_id: c.sibling.agent.id,
      parent_delegation_id: c.d2.id,
      scopes: ['agents:read'],
    });
    const d2b = await aDelegation(t, c.orchestrator, {
      delegate_agent_id: c.sibling.agent.id,
      parent_delegation_id: c.d1.id,
      scopes: ['agents:read', 'delegations:write'],
    });
    const d3c = await aDelegation(t, c.sibling, {
      delegate_agent_id: c.worker.agent.id,
      parent_delegation_id: d2b.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, 30 * MINUTE),
    });
    const killed = [c.d2.id, c.d3.id, d3b.id];
    const untouched = [c.d1.id, d2b.id, d3c.id];

    const res = await del(c.orchestrator, c.d2.id).expect(200);
    expect(res.body.revoked_delegation_ids[0]).toBe(c.d2.id);
    expect([...res.body.revoked_delegation_ids].sort()).toEqual([...killed].sort());

    const statuses = await delegationStatuses([...killed, ...untouched]);
    expect(statuses[c.d2.id]).toEqual({ status: 'revoked', reason: 'revoked' });
    expect(statuses[c.d3.id]).toEqual({ status: 'revoked', reason: 'parent_revoked' });
    expect(statuses[d3b.id]).toEqual({ status: 'revoked', reason: 'parent_revoked' });
    for (const id of untouched) expect(statuses[id]).toEqual({ status: 'active', reason: null });

    // Every access token / refresh family minted from a killed delegation carries its id: all marked.
    expect(await markers(killed)).toEqual([true, true, true]);
    expect(await markers(untouched)).toEqual([false, false, false]);
    // Durably (PostgreSQL), expiring with the delegation.
    const stored = await withDb(
      async (db) =>
        (
          await db.query<{ subject_id: string; expires_at: Date }>(
            `SELECT subject_id, expires_at FROM revocations WHERE kind = 'delegation' AND subject_id = ANY($1)`,
            [killed],
          )
        ).rows,
    );
    expect(Object.fromEntries(stored.map((r) => [r.subject_id, r.expires_at.toISOString()]))).toEqual({
      [c.d2.id]: c.d2.expires_at,
      [c.d3.id]: c.d3.expires_at,
      [d3b.id]: d3b.expires_at,
    });

    const tail = await chainOf(c.root, c.d3.id);
    expect(tail.valid).toBe(false);
    expect(tail.invalid_reason).toBe('delegation_revoked');
    expect(tail.chain.map((h: { status: string }) => h.status)).toEqual(['active', 'revoked', 'revoked']);
    expect((await chainOf(c.root, d3c.id)).valid).toBe(true);
    const services = t.app.get(DelegationsService);
    expect(await services.isChainValid(c.d3.id)).toBe(false);
    expect(await services.isChainValid(d3c.id)).toBe(true);

    // Idempotent: revoking again revokes nothing more.
    expect((await del(c.orchestrator, c.d2.id).expect(200)).body).toEqual({ revoked_delegation_ids: [] });
    // A revoked delegation cannot be re-delegated; nothing is written.
    const before = await delegationRows(c.root.agent.id);
    const refused = await request(t.http)
      .post(`${API}/delegations`)
      .set(c.worker.auth)
      .send({
        delegate_agent_id: c.sibling.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        expires_at: fromNow(t, HOUR),
      });
    expect({ status: refused.status, type: refused.body.type }).toEqual({
      status: 409,
      type: 'urn:agentauth:problem:delegation_inactive',
    });
    expect(await delegationRows(c.root.agent.id)).toEqual(before);
  });

  it('lets the delegator side and the delegate side revoke, and nobody else', async () => {
    const c = await aThreeHopChain(t);
    // The delegate gives its delegation up.
    expect((await del(c.ephemeral, c.d3.id).expect(200)).body).toEqual({ revoked_delegation_ids: [c.d3.id] });
    // A party of the tree that governs no party of the chain does not even see it.
    const unrelated = await del(c.sibling, c.d2.id);
    expect(unrelated.status).toBe(404);
    // The delegate cannot revoke its parent hop (it does not see it).
    expect((await del(c.worker, c.d1.id)).status).toBe(404);
    // An ancestor of the delegator does.
    expect((await del(c.root, c.d2.id).expect(200)).body).toEqual({ revoked_delegation_ids: [c.d2.id] });

    // The original delegator revokes a downstream hop it is no party of (its authority flows through it),
    // and an agent governing the delegate revokes a delegation its descendant received.
    const outsider = await aKey(
      t,
      c.root,
      await anAgent(t, c.root, { allowed_scopes: ['agents:read', 'delegations:write'] }),
    );
    const outsider2 = await aKey(t, c.root, await anAgent(t, c.root, { allowed_scopes: ['agents:read'] }));
    const e1 = await aDelegation(t, c.orchestrator, {
      delegate_agent_id: outsider.agent.id,
      scopes: ['agents:read', 'delegations:write'],
    });
    const e2 = await aDelegation(t, outsider, {
      delegate_agent_id: outsider2.agent.id,
      parent_delegation_id: e1.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, 30 * MINUTE),
    });
    expect((await del(c.orchestrator, e2.id).expect(200)).body).toEqual({ revoked_delegation_ids: [e2.id] });
    const toEphemeral = await aDelegation(t, c.orchestrator, {
      delegate_agent_id: c.ephemeral.agent.id,
      scopes: ['agents:read'],
    });
    expect((await del(c.worker, toEphemeral.id).expect(200)).body.revoked_delegation_ids).toEqual([
      toEphemeral.id,
    ]);
  });

  it('lets a token carrying act revoke its own delegation (and what was re-delegated from it)', async () => {
    const c = await aThreeHopChain(t);
    const principal = delegatedPrincipal(c.d2, c.root.agent.id, ['agents:read', 'delegations:write']);
    const { ids } = await t.app.get(DelegationsService).revoke(principal, c.d2.id);
    expect(ids).toEqual([c.d2.id, c.d3.id]);
    expect(await markers(ids)).toEqual([true, true]);
  });

  it('deactivating an agent revokes every delegation to or from its subtree, and everything below them', async () => {
    const c = await aThreeHopChain(t);
    // A chain among siblings: root → a → b → c2 → d; deactivating b hits a→b and b→c2 directly and
    // c2→d (whose parties stay active) as a descendant.
    const agents: Caller[] = [];
    for (let i = 0; i < 4; i++) {
      agents.push(
        await aKey(
          t,
          c.root,
          await anAgent(t, c.root, { allowed_scopes: ['agents:read', 'delegations:write'] }),
        ),
      );
    }
    const [a, b, c2, d] = agents;
    const scopes = ['agents:read', 'delegations:write'];
    const hop = (caller: Caller, delegate: Caller, parent: DelegationJson | null, minutes: number) =>
      aDelegation(t, caller, {
        delegate_agent_id: delegate.agent.id,
        ...(parent ? { parent_delegation_id: parent.id } : {}),
        scopes,
        expires_at: fromNow(t, minutes * MINUTE),
      });
    const h1 = await hop(c.root, a, null, 50);
    const h2 = await hop(a, b, h1, 40);
    const h3 = await hop(b, c2, h2, 30);
    const h4 = await hop(c2, d, h3, 20);
    const unrelated = await aDelegation(t, c.root, { delegate_agent_id: d.agent.id, scopes });

    const deactivation = await request(t.http)
      .delete(`${API}/agents/${b.agent.id}`)
      .set(c.root.auth)
      .expect(200);
    const killed = [h2.id, h3.id, h4.id];
    const statuses = await delegationStatuses([h1.id, ...killed, unrelated.id]);
    for (const id of killed) expect(statuses[id]).toEqual({ status: 'revoked', reason: 'agent_deactivated' });
    expect(statuses[h1.id].status).toBe('active');
    expect(statuses[unrelated.id].status).toBe('active');
    expect(await markers(killed)).toEqual([true, true, true]);
    expect(await markers([h1.id, unrelated.id])).toEqual([false, false]);
    // One delegation.revoked event each (b's key too), beside the request's agent.deactivated.
    const { events, shared: byRoot } = await eventsOfResponse(deactivation, c.root.agent.id, c.root.agent.id);
    const cause = { cause: 'agent_deactivated', cause_agent_id: b.agent.id } as const;
    expect(events).toHaveLength(5);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event_type: 'agent.deactivated', target_id: b.agent.id }),
        keyRevokedByCascade(b, cause, byRoot),
        ...[h2, h3, h4].map((h) => delegationRevokedByCascade(h, cause, byRoot)),
      ]),
    );

    // Deactivating the orchestrator (its subtree: worker, ephemeral, sibling) kills the whole first chain.
    await request(t.http).delete(`${API}/agents/${c.orchestrator.agent.id}`).set(c.root.auth).expect(200);
    const first = await delegationStatuses([c.d1.id, c.d2.id, c.d3.id]);
    expect(Object.values(first).map((s) => s.status)).toEqual(['revoked', 'revoked', 'revoked']);
    expect(await markers([c.d1.id, c.d2.id, c.d3.id])).toEqual([true, true, true]);
  });

  it('suspension invalidates the chain while it lasts but revokes nothing', async () => {
    const c = await aThreeHopChain(t);
    const patch = (status: string) =>
      request(t.http)
        .patch(`${API}/agents/${c.worker.agent.id}`)
        .set(c.root.auth)
        .send({ status })
        .expect(200);
    await patch('suspended');
    const during = await chainOf(c.root, c.d3.id);
    expect({ valid: during.valid, reason: during.invalid_reason }).toEqual({
      valid: false,
      reason: 'agent_inactive',
    });
    expect(Object.values(await delegationStatuses([c.d1.id, c.d2.id, c.d3.id])).map((s) => s.status)).toEqual(
      ['active', 'active', 'active'],
    );
    expect(await markers([c.d2.id, c.d3.id])).toEqual([false, false]);
    await patch('active');
    expect((await chainOf(c.root, c.d3.id)).valid).toBe(true);
  });

  it('never leaves an active re-delegation under a revoked parent when both race', async () => {
    const c = await aThreeHopChain(t);
    const outcomes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const parent: DelegationJson = await aDelegation(t, c.root, {
        delegate_agent_id: c.orchestrator.agent.id,
        scopes: ['agents:read', 'delegations:write'],
      });
      const [created] = await Promise.all([
        request(t.http)
          .post(`${API}/delegations`)
          .set(c.orchestrator.auth)
          .send({
            delegate_agent_id: c.worker.agent.id,
            parent_delegation_id: parent.id,
            scopes: ['agents:read'],
            expires_at: fromNow(t, 30 * MINUTE),
          }),
        // Staggered so that some revocations land before, during and after the re-delegation.
        new Promise((resolve) => setTimeout(resolve, i)).then(() => del(c.root, parent.id).expect(200)),
      ]);
      outcomes.push(created.status);
      if (![201, 409].includes(created.status))
        throw new Error(`${created.status} ${JSON.stringify(created.body)}`);
    }
    const orphans = await withDb(
      async (db) =>
        (
          await db.query(
            `SELECT child.id FROM delegations child JOIN delegations parent ON parent.id = child.parent_delegation_id
              WHERE child.root_agent_id = $1 AND child.status = 'active' AND parent.status = 'revoked'`,
            [c.root.agent.id],
          )
        ).rows,
    );
    expect({ outcomes, orphans }).toEqual({ outcomes, orphans: [] });
  });
});
