import request from 'supertest';
import { AgentCascadeRegistry, AgentsService } from '@agentauth/agents';
import { ConflictProblem } from '@agentauth/core';
import { CredentialsService } from '@agentauth/credentials';
import { createTestApp, type TestApp } from '../../support/app';
import {
  aKey,
  anAgent,
  API,
  aTree,
  authStatus,
  claimsOf,
  requestToken,
  withFreshToken,
} from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { auditEventsOf, treeSnapshot, withDb } from '../../factories/db';

const SCOPES = ['agents:read', 'agents:write', 'credentials:read', 'credentials:write'];

describe('inactive agents', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function threeLevels() {
    const root = await aTree(t);
    const middle = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    const leaf = await aKey(t, middle, await anAgent(t, middle, { allowed_scopes: ['agents:read'] }));
    return { root, middle, leaf };
  }

  it('suspending a middle agent stops its whole subtree authenticating; reactivating restores it', async () => {
    const { root, middle, leaf } = await threeLevels();
    const suspend = await request(t.http)
      .patch(`${API}/agents/${middle.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect(suspend.body.status).toBe('suspended');
    expect(await authStatus(t, middle)).toBe(401);
    expect(await authStatus(t, leaf)).toBe(401);
    expect(await authStatus(t, root)).toBe(200);
    // the leaf's own row is still active: it is inactive through its ancestor
    const leafRow = await request(t.http).get(`${API}/agents/${leaf.agent.id}`).set(root.auth).expect(200);
    expect(leafRow.body.status).toBe('active');
    expect(await t.app.get(AgentsService).getActivity(leaf.agent.id)).toMatchObject({
      active: false,
      reason: 'ancestor_suspended',
    });
    expect((await auditEventsOf(suspend.headers['x-request-id']))[0]).toMatchObject({
      event_type: 'agent.updated',
      target_id: middle.agent.id,
      details: { fields: ['status'], status: 'suspended', suspended_agents: 2 },
    });

    // nothing new under (or for) a suspended agent
    await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'x', parent_agent_id: leaf.agent.id })
      .expect(409);
    const key = await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ agent_id: middle.agent.id })
      .expect(409);
    expect(key.body.type).toBe('urn:agentauth:problem:agent_inactive');

    await request(t.http)
      .patch(`${API}/agents/${middle.agent.id}`)
      .set(root.auth)
      .send({ status: 'active' })
      .expect(200);
    // Re-activation never revives tokens issued before the suspension (CONTRACT §2)…
    await request(t.http).get(`${API}/agents`).set(middle.auth).expect(401);
    await request(t.http).get(`${API}/agents`).set(leaf.auth).expect(401);
    // …while the keys authenticate again and their new tokens work at once (`auth_time` has milliseconds).
    expect(await authStatus(t, middle)).toBe(200);
    expect(await authStatus(t, leaf)).toBe(200);
  });

  it('runs the suspension and deactivation hooks inside the same transaction', async () => {
    const { root, middle, leaf } = await threeLevels();
    const registry = t.app.get(AgentCascadeRegistry);
    const seen: { event: string; ids: string[]; statusInTx: string }[] = [];
    let fail = false;
    registry.register(`test-spy-${Date.now()}`, {
      onSuspended: async (manager, ids) => {
        const [row] = await manager.query(`SELECT status FROM agents WHERE id = $1`, [ids[0]]);
        seen.push({ event: 'suspended', ids, statusInTx: row.status });
      },
      onDeactivated: async (manager, ids) => {
        const [row] = await manager.query(`SELECT status FROM agents WHERE id = $1`, [ids[0]]);
        seen.push({ event: 'deactivated', ids, statusInTx: row.status });
        if (fail) throw new ConflictProblem('refused by a hook', 'hook_refused');
      },
    });
    await request(t.http)
      .patch(`${API}/agents/${middle.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    expect(seen).toEqual([
      { event: 'suspended', ids: [middle.agent.id, leaf.agent.id], statusInTx: 'suspended' },
    ]);

    // a hook that fails rolls the whole deactivation back: statuses and credentials untouched
    fail = true;
    const before = await treeSnapshot(root.agent.id);
    await request(t.http).delete(`${API}/agents/${middle.agent.id}`).set(root.auth).expect(409);
    expect(seen[1]).toEqual({
      event: 'deactivated',
      ids: [middle.agent.id, leaf.agent.id],
      statusInTx: 'deactivated',
    });
    expect(await treeSnapshot(root.agent.id)).toEqual(before);
    fail = false;
    await request(t.http).delete(`${API}/agents/${middle.agent.id}`).set(root.auth).expect(200);
  });

  it('an ephemeral agent stops authenticating exactly at expires_at, and so do its children', async () => {
    const frozen = freezeClock(t);
    try {
      const root = await aTree(t);
      const expiresAt = new Date(frozen.frozenAt + 600_000);
      const eph = await aKey(
        t,
        root,
        await anAgent(t, root, {
          trust_level: 'ephemeral',
          expires_at: expiresAt.toISOString(),
          allowed_scopes: SCOPES,
        }),
      );
      const child = await aKey(t, eph, await anAgent(t, eph, { allowed_scopes: ['agents:read'] }));
      expect(child.agent).toMatchObject({ trust_level: 'ephemeral', expires_at: expiresAt.toISOString() });
      // keys default to their agent's expiry
      const keys = await withDb(
        async (db) =>
          (await db.query(`SELECT expires_at FROM credentials WHERE agent_id = $1`, [eph.agent.id])).rows,
      );
      expect(keys.map((k) => (k.expires_at as Date).toISOString())).toEqual([expiresAt.toISOString()]);

      // A token never outlives its agent: exp (whole seconds) is at or before expires_at.
      frozen.clock.advance(600_000 - 1001);
      expect(await authStatus(t, eph)).toBe(200);
      expect(await authStatus(t, child)).toBe(200);
      const late = await withFreshToken(t, child);
      expect(claimsOf(late.accessToken).exp * 1000).toBeLessThanOrEqual(expiresAt.getTime());
      // The key still authenticates until the instant itself, but no token can be issued in the last second.
      frozen.clock.advance(1000);
      await expect(
        t.app.get(CredentialsService).verifyApiKey(eph.agent.id, eph.apiKey),
      ).resolves.toMatchObject({ agent: { id: eph.agent.id } });
      const tooLate = await requestToken(t, eph);
      expect(tooLate.status).toBe(400);
      expect(tooLate.body.error).toBe('invalid_grant');
      await request(t.http).get(`${API}/agents`).set(late.auth).expect(401);
      frozen.clock.advance(1);
      expect(await authStatus(t, eph)).toBe(401);
      expect(await authStatus(t, child)).toBe(401);
      expect(await t.app.get(AgentsService).getActivity(child.agent.id)).toMatchObject({
        active: false,
        reason: 'expired',
        effectiveExpiresAt: expiresAt,
      });
    } finally {
      frozen.restore();
    }
  });

  it('a deactivated agent cannot be changed or reactivated', async () => {
    const { root, middle } = await threeLevels();
    await request(t.http).delete(`${API}/agents/${middle.agent.id}`).set(root.auth).expect(200);
    for (const body of [{ status: 'active' }, { name: 'zombie' }]) {
      const res = await request(t.http)
        .patch(`${API}/agents/${middle.agent.id}`)
        .set(root.auth)
        .send(body)
        .expect(409);
      expect(res.body.type).toBe('urn:agentauth:problem:agent_deactivated');
    }
    // and the database refuses it too (trigger), whoever asks
    await expect(
      withDb((db) => db.query(`UPDATE agents SET status = 'active' WHERE id = $1`, [middle.agent.id])),
    ).rejects.toThrow(/stays deactivated/);
    await expect(
      withDb((db) => db.query(`UPDATE agents SET trust_level = 'root' WHERE id = $1`, [middle.agent.id])),
    ).rejects.toThrow(/never change/);
  });

  it('never leaves an active agent or key below a deactivated one, however creation races deactivation', async () => {
    for (let round = 0; round < 3; round++) {
      const { root, middle, leaf } = await threeLevels();
      const creations = Array.from({ length: 8 }, (_, i) =>
        request(t.http)
          .post(`${API}/agents`)
          .set(root.auth)
          .send({ name: `racer-${i}`, parent_agent_id: leaf.agent.id }),
      );
      const keys = Array.from({ length: 4 }, () =>
        request(t.http).post(`${API}/credentials`).set(root.auth).send({ agent_id: leaf.agent.id }),
      );
      const deactivation = request(t.http).delete(`${API}/agents/${middle.agent.id}`).set(root.auth);
      const results = await Promise.all([...creations, ...keys, deactivation]);
      expect(results.every((r) => [200, 201, 409].includes(r.status))).toBe(true);
      const survivors = await withDb(async (db) => {
        const agents = await db.query(
          `SELECT count(*)::int AS n FROM agents a JOIN agents m ON m.id = $1
           WHERE a.path >= m.path AND a.path < m.path || '~' AND a.status <> 'deactivated'`,
          [middle.agent.id],
        );
        const credentials = await db.query(
          `SELECT count(*)::int AS n FROM credentials c JOIN agents a ON a.id = c.agent_id
           WHERE a.status = 'deactivated' AND c.status = 'active' AND a.root_agent_id = $1`,
          [root.agent.id],
        );
        return { agents: agents.rows[0].n, credentials: credentials.rows[0].n };
      });
      expect(survivors).toEqual({ agents: 0, credentials: 0 });
    }
  });
});
