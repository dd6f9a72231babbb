import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { listRoutes } from '../../support/routes';
import { aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { treeSnapshot } from '../../factories/db';
import { aDelegation, type DelegationJson } from '../../factories/delegations';
import { aPolicy, type PolicyJson } from '../../factories/policies';
import { aResourceServer, type ResourceServerJson } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';

/** A 404 without its per-request part: what must be identical for an unknown id and another tree's. */
function comparable(res: request.Response) {
  const { request_id: _requestId, ...body } = res.body as Record<string, unknown>;
  return { status: res.status, contentType: res.headers['content-type'], body };
}

/**
 * CONTRACT §1/§5: an id from another tree gets exactly the answer an unknown id gets — in the path, in a
 * body, in a query filter. The route walk below covers every `{id}` route the app has; a new `{id}`
 * route fails it until it says how to find a foreign id of its kind (and implements the check).
 */
describe('tree isolation', () => {
  let t: TestApp;
  let mine: Caller;
  let myChild: Caller;
  let theirs: Caller;
  let theirChild: Caller;
  let theirWebhookId: string;
  let theirDelegation: DelegationJson;
  let theirPolicy: PolicyJson;
  let theirResourceServer: ResourceServerJson;

  beforeAll(async () => {
    // Private targets allowed: this machine resolves no public name, and no webhook is delivered here.
    t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    mine = await aTree(t);
    myChild = await aKey(t, mine, await anAgent(t, mine, { allowed_scopes: ['agents:read'] }));
    theirs = await aTree(t);
    theirChild = await aKey(t, theirs, await anAgent(t, theirs, { allowed_scopes: ['agents:read'] }));
    const webhook = await request(t.http)
      .post(`${API}/webhooks`)
      .set(theirs.auth)
      .send({ url: 'http://127.0.0.1:9/agentauth', events: ['credential.revoked'] });
    if (webhook.status !== 201)
      throw new Error(`create webhook: ${webhook.status} ${JSON.stringify(webhook.body)}`);
    theirWebhookId = webhook.body.id as string;
    theirDelegation = await aDelegation(t, theirs, {
      delegate_agent_id: theirChild.agent.id,
      scopes: ['agents:read'],
    });
    theirPolicy = await aPolicy(t, theirs, { subjects: [theirChild.agent.id] });
    await aScope(t, theirs, 'files:read');
    theirResourceServer = await aResourceServer(t, theirs, { scopes: ['files:read'] });
  });
  afterAll(async () => {
    await t.close();
  });

  /** For each resource (first path segment): an id of that kind in the other tree. */
  const foreignIds: Record<string, () => string> = {
    agents: () => theirChild.agent.id,
    credentials: () => theirChild.credentialId,
    webhooks: () => theirWebhookId,
    delegations: () => theirDelegation.id,
    policies: () => theirPolicy.id,
    'resource-servers': () => theirResourceServer.id,
  };
  /** A valid body per route, so validation passes and the visibility check is what answers. */
  const validBodies: Record<string, Record<string, unknown>> = {
    'PATCH agents/:id': { name: 'renamed' },
    'POST credentials/:id/rotate': { grace_period_seconds: 0 },
    'PATCH policies/:id': { enabled: false },
    'PATCH resource-servers/:id': { name: 'renamed' },
  };

  it("answers every {id} route for another tree's id exactly as for an unknown id, and writes nothing", async () => {
    // Tenant routes (Bearer); the operator's @AdminOnly routes belong to no tree.
    const idRoutes = listRoutes(t.app).filter((r) => r.auth === 'bearer' && r.path.includes(':id'));
    expect(idRoutes.length).toBeGreaterThanOrEqual(5);
    for (const route of idRoutes) {
      const resource = route.path.split('/')[0];
      const foreign = foreignIds[resource];
      if (!foreign)
        throw new Error(`no foreign-id factory for ${route.method} ${route.path}: add one to this test`);
      const send = (id: string) => {
        const method = route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete' | 'put';
        const agent = request(t.http);
        const req = agent[method](`${API}/${route.path.replace(':id', id)}`).set(mine.auth);
        const body = validBodies[`${route.method} ${route.path}`];
        return body ? req.send(body) : req;
      };
      const before = await treeSnapshot(theirs.agent.id);
      const unknown = await send(randomUUID());
      const other = await send(foreign());
      expect({ route: `${route.method} ${route.path}`, ...comparable(other) }).toEqual({
        route: `${route.method} ${route.path}`,
        ...comparable(unknown),
      });
      expect(other.status).toBe(404);
      expect(await treeSnapshot(theirs.agent.id)).toEqual(before);
    }
  });

  it("answers another tree's id in a body exactly as an unknown one", async () => {
    const cases: [string, (id: string) => request.Test][] = [
      [
        'POST /agents parent_agent_id',
        (id) => request(t.http).post(`${API}/agents`).set(mine.auth).send({ name: 'x', parent_agent_id: id }),
      ],
      [
        'POST /credentials agent_id',
        (id) => request(t.http).post(`${API}/credentials`).set(mine.auth).send({ agent_id: id }),
      ],
    ];
    for (const [name, send] of cases) {
      const before = await treeSnapshot(theirs.agent.id);
      const unknown = await send(randomUUID());
      for (const foreign of [theirs.agent.id, theirChild.agent.id]) {
        const other = await send(foreign);
        expect({ name, ...comparable(other) }).toEqual({ name, ...comparable(unknown) });
        expect(other.status).toBe(404);
      }
      expect(await treeSnapshot(theirs.agent.id)).toEqual(before);
    }
  });

  it("answers another tree's id in a filter exactly as an unknown one", async () => {
    const cases: [string, (id: string) => request.Test][] = [
      [
        'GET /agents?parent_agent_id',
        (id) => request(t.http).get(`${API}/agents`).query({ parent_agent_id: id }).set(mine.auth),
      ],
      [
        'GET /credentials?agent_id',
        (id) => request(t.http).get(`${API}/credentials`).query({ agent_id: id }).set(mine.auth),
      ],
    ];
    for (const [name, send] of cases) {
      const unknown = await send(randomUUID());
      const other = await send(theirChild.agent.id);
      expect({ name, ...comparable(other) }).toEqual({ name, ...comparable(unknown) });
      expect(other.status).toBe(404);
    }
  });

  it('hides ancestors and siblings from a descendant the same way', async () => {
    const sibling = await anAgent(t, mine);
    for (const id of [mine.agent.id, sibling.id]) {
      const res = await request(t.http).get(`${API}/agents/${id}`).set(myChild.auth);
      const unknown = await request(t.http).get(`${API}/agents/${randomUUID()}`).set(myChild.auth);
      expect(comparable(res)).toEqual(comparable(unknown));
    }
    const list = await request(t.http).get(`${API}/agents`).set(myChild.auth).expect(200);
    expect(list.body.items.map((a: { id: string }) => a.id)).toEqual([myChild.agent.id]);
  });

  it("never lists another tree's agents or credentials", async () => {
    const agents = await request(t.http)
      .get(`${API}/agents`)
      .query({ limit: 200 })
      .set(mine.auth)
      .expect(200);
    expect(agents.body.items.every((a: { root_agent_id: string }) => a.root_agent_id === mine.agent.id)).toBe(
      true,
    );
    const credentials = await request(t.http)
      .get(`${API}/credentials`)
      .query({ limit: 200 })
      .set(mine.auth)
      .expect(200);
    const theirIds = new Set([theirs.credentialId, theirChild.credentialId]);
    expect(credentials.body.items.some((c: { id: string }) => theirIds.has(c.id))).toBe(false);
    expect(credentials.body.items.length).toBeGreaterThanOrEqual(2);
  });
});
