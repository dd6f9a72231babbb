import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';
import { listRoutes } from '../../support/routes';
import { aChildCaller, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { aPolicy, evaluate, type PolicyJson } from '../../factories/policies';
import { aScope } from '../../factories/scopes';

/** A 404 without its per-request part: what must be identical for an unknown id and a hidden one. */
function comparable(res: request.Response) {
  const { request_id: _requestId, ...body } = res.body as Record<string, unknown>;
  return { status: res.status, contentType: res.headers['content-type'], body };
}

const POLICY_SCOPES = ['agents:read', 'agents:write', 'credentials:write', 'policies:read', 'policies:write'];

/**
 * Policies are confined (CONTRACT §5, §6): a policy is owned by the caller's authority and governs at most
 * its subtree; it names only agents of that subtree; only its owner and the owner's ancestors see, change or
 * delete it; everything else answers exactly like an unknown id.
 */
describe('policy confinement', () => {
  let t: TestApp;
  let root: Caller;
  let team: Caller; // a mid-tree agent with policy rights
  let member: Caller; // below team
  let sibling: Caller; // team's sibling
  let theirs: Caller;
  let theirAgentId: string;

  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    await aScope(t, root, 'files:read');
    team = await aChildCaller(t, root, { allowed_scopes: [...POLICY_SCOPES, 'files:read'] });
    member = await aChildCaller(t, team, { allowed_scopes: ['policies:read', 'files:read'] });
    sibling = await aChildCaller(t, root, { allowed_scopes: [...POLICY_SCOPES, 'files:read'] });
    theirs = await aTree(t);
    theirAgentId = (await anAgent(t, theirs)).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const policyRow = async (id: string) => (await ownerQuery(`SELECT * FROM policies WHERE id = $1`, [id]))[0];

  it('answers a subject naming another tree’s agent, an ancestor or a sibling exactly like an unknown id, creating nothing', async () => {
    const send = (caller: Caller, subject: string) =>
      request(t.http)
        .post(`${API}/policies`)
        .set(caller.auth)
        .send({ name: 'x', effect: 'deny', subjects: [subject], actions: ['*'] });
    const count = async () => (await ownerQuery(`SELECT count(*)::int AS n FROM policies`))[0].n;
    const before = await count();
    for (const caller of [root, team]) {
      const unknown = comparable(await send(caller, randomUUID()));
      expect(unknown.status).toBe(404);
      const hidden =
        caller === root ? [theirAgentId, theirs.agent.id] : [theirAgentId, root.agent.id, sibling.agent.id];
      for (const id of hidden) {
        for (const subject of [id, `agent:${id}/*`]) {
          expect({ subject, ...comparable(await send(caller, subject)) }).toEqual({ subject, ...unknown });
        }
      }
    }
    expect(await count()).toBe(before);
  });

  it("keeps a mid-tree owner's policy, `*` included, inside its subtree", async () => {
    const policy = await aPolicy(t, team, {
      subjects: ['*', 'trust_level:delegated'],
      actions: ['files:read'],
    });
    expect(policy.owner_agent_id).toBe(team.agent.id);
    expect(await evaluate(t, root, { agent_id: member.agent.id, action: 'files:read' })).toMatchObject({
      reason: 'explicit_deny',
    });
    expect(await evaluate(t, root, { agent_id: team.agent.id, action: 'files:read' })).toMatchObject({
      reason: 'explicit_deny',
    });
    // The sibling branch is delegated too, yet out of reach.
    expect(await evaluate(t, root, { agent_id: sibling.agent.id, action: 'files:read' })).toMatchObject({
      reason: 'scope_grant',
    });
    await request(t.http).delete(`${API}/policies/${policy.id}`).set(team.auth).expect(204);
  });

  it('lets the owner and its ancestors see, change and delete a policy; hides it from everyone else', async () => {
    const policy = await aPolicy(t, team, { subjects: [member.agent.id], actions: ['files:read'] });
    const rootList = await request(t.http)
      .get(`${API}/policies`)
      .query({ limit: 200 })
      .set(root.auth)
      .expect(200);
    expect(rootList.body.items.map((p: PolicyJson) => p.id)).toContain(policy.id);
    for (const caller of [sibling, member]) {
      const list = await request(t.http)
        .get(`${API}/policies`)
        .query({ limit: 200 })
        .set(caller.auth)
        .expect(200);
      expect(list.body.items.map((p: PolicyJson) => p.id)).not.toContain(policy.id);
    }
    const before = await policyRow(policy.id);
    for (const caller of [sibling, member, theirs]) {
      const routes: [string, (id: string) => request.Test][] = [
        ['GET', (id) => request(t.http).get(`${API}/policies/${id}`).set(caller.auth)],
        [
          'PATCH',
          (id) => request(t.http).patch(`${API}/policies/${id}`).set(caller.auth).send({ enabled: false }),
        ],
        ['DELETE', (id) => request(t.http).delete(`${API}/policies/${id}`).set(caller.auth)],
      ];
      for (const [name, send] of routes) {
        const unknown = comparable(await send(randomUUID()));
        const hidden = comparable(await send(policy.id));
        if (caller === member && name !== 'GET') {
          // member holds policies:read only: refused by scope before any lookup.
          expect(hidden.status).toBe(403);
          continue;
        }
        expect({ name, ...hidden }).toEqual({ name, ...unknown });
        expect(hidden.status).toBe(404);
      }
    }
    expect(await policyRow(policy.id)).toEqual(before);

    // The owner's ancestor changes it; the owner stays the owner.
    const patched = await request(t.http)
      .patch(`${API}/policies/${policy.id}`)
      .set(root.auth)
      .send({ subjects: [`agent:${team.agent.id}/*`] })
      .expect(200);
    expect(patched.body).toMatchObject({ owner_agent_id: team.agent.id, version: 2 });
    // A subject the ancestor can see but the owner's subtree does not hold: 400, nothing changed.
    const outside = await request(t.http)
      .patch(`${API}/policies/${policy.id}`)
      .set(root.auth)
      .send({ subjects: [sibling.agent.id] })
      .expect(400);
    expect(outside.body.errors).toEqual([expect.objectContaining({ field: 'subjects' })]);
    expect((await policyRow(policy.id)).version).toBe(2);
    await request(t.http).delete(`${API}/policies/${policy.id}`).set(root.auth).expect(204);
  });

  it("answers another tree's policy id on every {id} route exactly like an unknown id, changing nothing", async () => {
    const foreign = await aPolicy(t, theirs, { subjects: [theirAgentId] });
    const routes = listRoutes(t.app).filter((r) => r.path.startsWith('policies/:id'));
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'DELETE policies/:id',
      'GET policies/:id',
      'PATCH policies/:id',
    ]);
    const before = await policyRow(foreign.id);
    for (const route of routes) {
      const send = (id: string) => {
        const method = route.method.toLowerCase() as 'get' | 'patch' | 'delete';
        const path = `${API}/${route.path.replace(':id', id)}`;
        const req = request(t.http)[method](path).set(root.auth);
        return route.method === 'PATCH' ? req.send({ name: 'hijacked' }) : req;
      };
      const unknown = comparable(await send(randomUUID()));
      const other = comparable(await send(foreign.id));
      expect({ route: route.path, method: route.method, ...other }).toEqual({
        route: route.path,
        method: route.method,
        ...unknown,
      });
      expect(other.status).toBe(404);
    }
    expect(await policyRow(foreign.id)).toEqual(before);
    // ... and in a list filter.
    const unknownOwner = await request(t.http)
      .get(`${API}/policies`)
      .query({ owner_agent_id: randomUUID() })
      .set(root.auth);
    const foreignOwner = await request(t.http)
      .get(`${API}/policies`)
      .query({ owner_agent_id: theirs.agent.id })
      .set(root.auth);
    expect(comparable(foreignOwner)).toEqual(comparable(unknownOwner));
    const list = await request(t.http)
      .get(`${API}/policies`)
      .query({ limit: 200 })
      .set(root.auth)
      .expect(200);
    expect(list.body.items.every((p: PolicyJson) => p.root_agent_id === root.agent.id)).toBe(true);
  });

  it("never applies one tree's policies to another tree's agents", async () => {
    await aPolicy(t, theirs, { subjects: ['*'], actions: ['*'] });
    const mine = await anAgent(t, root, { allowed_scopes: ['files:read'] });
    expect(await evaluate(t, root, { agent_id: mine.id, action: 'files:read' })).toMatchObject({
      reason: 'scope_grant',
    });
  });
});
