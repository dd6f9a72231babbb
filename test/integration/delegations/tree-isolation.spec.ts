import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { listRoutes } from '../../support/routes';
import { aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { treeSnapshot } from '../../factories/db';
import { aDelegation, type DelegationJson, delegationRows, fromNow, HOUR } from '../../factories/delegations';

/** A 404 without its per-request part: what must be identical for an unknown id and another tree's. */
function comparable(res: request.Response) {
  const { request_id: _requestId, ...body } = res.body as Record<string, unknown>;
  return { status: res.status, contentType: res.headers['content-type'], body };
}

/**
 * CONTRACT §1/§5/§6: a delegation or agent id from another tree — in the path, the body or a filter — gets
 * exactly the answer an unknown id gets, and nothing is written in the other tree.
 */
describe('delegations: tree isolation', () => {
  let t: TestApp;
  let mine: Caller;
  let myChild: Caller;
  let theirs: Caller;
  let theirChild: Caller;
  let theirDelegation: DelegationJson;
  let theirRedelegation: DelegationJson;

  beforeAll(async () => {
    t = await createTestApp();
    mine = await aTree(t);
    myChild = await aKey(
      t,
      mine,
      await anAgent(t, mine, { allowed_scopes: ['agents:read', 'delegations:write'] }),
    );
    theirs = await aTree(t);
    theirChild = await aKey(
      t,
      theirs,
      await anAgent(t, theirs, { allowed_scopes: ['agents:read', 'delegations:write'] }),
    );
    const theirGrandchild = await anAgent(t, theirs, { parent_agent_id: theirChild.agent.id });
    theirDelegation = await aDelegation(t, theirs, {
      delegate_agent_id: theirChild.agent.id,
      scopes: ['agents:read', 'delegations:write'],
    });
    theirRedelegation = await aDelegation(t, theirChild, {
      delegate_agent_id: theirGrandchild.id,
      parent_delegation_id: theirDelegation.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, HOUR / 2),
    });
    await aDelegation(t, mine, { delegate_agent_id: myChild.agent.id, scopes: ['agents:read'] });
  });
  afterAll(async () => {
    await t.close();
  });

  async function theirState() {
    return { delegations: await delegationRows(theirs.agent.id), tree: await treeSnapshot(theirs.agent.id) };
  }

  it("answers every delegations/{id} route for another tree's id exactly as for an unknown id", async () => {
    const routes = listRoutes(t.app).filter((r) => r.path.startsWith('delegations/:id'));
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'DELETE delegations/:id',
      'GET delegations/:id',
      'GET delegations/:id/chain',
    ]);
    for (const route of routes) {
      const method = route.method.toLowerCase() as 'get' | 'delete';
      const send = (id: string) => {
        const agent = request(t.http);
        return agent[method](`${API}/${route.path.replace(':id', id)}`).set(mine.auth);
      };
      for (const foreign of [theirDelegation.id, theirRedelegation.id]) {
        const before = await theirState();
        const unknown = await send(randomUUID());
        const other = await send(foreign);
        const name = `${route.method} ${route.path}`;
        expect({ name, ...comparable(other) }).toEqual({ name, ...comparable(unknown) });
        expect(other.status).toBe(404);
        expect(await theirState()).toEqual(before);
      }
    }
  });

  it("answers another tree's id in a body exactly as an unknown one", async () => {
    const post = (body: Record<string, unknown>) =>
      request(t.http)
        .post(`${API}/delegations`)
        .set(mine.auth)
        .send({ scopes: ['agents:read'], expires_at: fromNow(t, HOUR), ...body });
    const cases: [string, (id: string) => Promise<request.Response>, string[]][] = [
      ['delegate_agent_id', (id) => post({ delegate_agent_id: id }), [theirs.agent.id, theirChild.agent.id]],
      [
        'parent_delegation_id',
        (id) => post({ delegate_agent_id: myChild.agent.id, parent_delegation_id: id }),
        [theirDelegation.id, theirRedelegation.id],
      ],
    ];
    for (const [name, send, foreignIds] of cases) {
      const before = await theirState();
      const mineBefore = await delegationRows(mine.agent.id);
      const unknown = await send(randomUUID());
      for (const foreign of foreignIds) {
        const other = await send(foreign);
        expect({ name, ...comparable(other) }).toEqual({ name, ...comparable(unknown) });
        expect(other.status).toBe(404);
      }
      expect(await theirState()).toEqual(before);
      expect(await delegationRows(mine.agent.id)).toEqual(mineBefore);
    }
  });

  it("answers another tree's id in a filter exactly as an unknown one, and never lists its delegations", async () => {
    for (const filter of [
      'delegate_agent_id',
      'delegator_agent_id',
      'original_delegator_id',
      'parent_delegation_id',
    ]) {
      const list = (id: string) =>
        request(t.http)
          .get(`${API}/delegations`)
          .query({ [filter]: id })
          .set(mine.auth);
      const foreign = filter === 'parent_delegation_id' ? theirDelegation.id : theirChild.agent.id;
      const unknown = await list(randomUUID());
      const other = await list(foreign);
      expect({ filter, ...comparable(other) }).toEqual({ filter, ...comparable(unknown) });
      expect(other.body).toEqual({ items: [], next_cursor: null });
    }
    const all = await request(t.http)
      .get(`${API}/delegations`)
      .query({ limit: 200 })
      .set(mine.auth)
      .expect(200);
    expect(all.body.items.length).toBeGreaterThan(0);
    expect(all.body.items.every((d: DelegationJson) => d.root_agent_id === mine.agent.id)).toBe(true);
  });
});
