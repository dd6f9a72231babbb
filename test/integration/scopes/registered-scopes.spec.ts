import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';
import { aChildCaller, aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { treeSnapshot } from '../../factories/db';
import { aScope } from '../../factories/scopes';

const problem = (code: string) => `urn:agentauth:problem:${code}`;

/**
 * CONTRACT §6 "every scope written anywhere must be registered", and how a custom scope reaches a tree:
 * its root holds every scope registered in its tree (docs/policies.md).
 */
describe('registered scopes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function rootScopes(root: Caller): Promise<string[]> {
    const res = await request(t.http).get(`${API}/agents/${root.agent.id}`).set(root.auth).expect(200);
    return res.body.allowed_scopes;
  }

  async function keyScopes(root: Caller, credentialId: string): Promise<string[]> {
    const res = await request(t.http).get(`${API}/credentials/${credentialId}`).set(root.auth);
    if (res.status === 200) return res.body.scopes;
    const [row] = await ownerQuery<{ scopes: string[] }>(`SELECT scopes FROM credentials WHERE id = $1`, [
      credentialId,
    ]);
    return row.scopes;
  }

  it('refuses an unregistered scope in every write with 400 unknown_scope, listing it, writing nothing', async () => {
    const root = await aTree(t);
    await aScope(t, root, 'files:read');
    const child = await anAgent(t, root, { allowed_scopes: ['agents:read', 'files:read'] });
    const before = await treeSnapshot(root.agent.id);
    const writes: [string, () => request.Test, string][] = [
      [
        'POST /agents allowed_scopes',
        () =>
          request(t.http)
            .post(`${API}/agents`)
            .set(root.auth)
            .send({ name: 'x', allowed_scopes: ['files:read', 'files:write', 'billing:pay'] }),
        'allowed_scopes',
      ],
      [
        'PATCH /agents/{id} allowed_scopes',
        () =>
          request(t.http)
            .patch(`${API}/agents/${child.id}`)
            .set(root.auth)
            .send({ allowed_scopes: ['files:write', 'billing:pay'] }),
        'allowed_scopes',
      ],
      [
        'POST /credentials scopes',
        () =>
          request(t.http)
            .post(`${API}/credentials`)
            .set(root.auth)
            .send({ agent_id: child.id, scopes: ['billing:pay', 'files:write'] }),
        'scopes',
      ],
    ];
    for (const [name, send, field] of writes) {
      const res = await send();
      expect({ name, status: res.status, type: res.body.type }).toEqual({
        name,
        status: 400,
        type: problem('unknown_scope'),
      });
      expect(res.body.unknown_scopes.sort()).toEqual(['billing:pay', 'files:write']);
      expect(res.body.errors).toEqual([{ field, message: expect.stringContaining('billing:pay') }]);
    }
    expect(await treeSnapshot(root.agent.id)).toEqual(before);
  });

  it('refuses an unregistered scope at bootstrap (only built-ins exist for a tree that does not exist yet)', async () => {
    const name = `boot-${Date.now()}`;
    const res = await request(t.http)
      .post(`${API}/agents/bootstrap`)
      .send({ name, allowed_scopes: ['agents:read', 'files:read'] })
      .expect(400);
    expect(res.body).toMatchObject({ type: problem('unknown_scope'), unknown_scopes: ['files:read'] });
    expect(await ownerQuery(`SELECT id FROM agents WHERE name = $1`, [name])).toEqual([]);
  });

  it("treats another tree's custom scope as unknown", async () => {
    const mine = await aTree(t);
    const theirs = await aTree(t);
    await aScope(t, theirs, 'theirs:read');
    const res = await request(t.http)
      .post(`${API}/agents`)
      .set(mine.auth)
      .send({ name: 'x', allowed_scopes: ['theirs:read'] })
      .expect(400);
    expect(res.body).toMatchObject({ type: problem('unknown_scope'), unknown_scopes: ['theirs:read'] });
  });

  it('makes the root hold every scope registered in its tree, and its full keys with it', async () => {
    const root = await aTree(t);
    const narrowKey = await aKey(t, root, root.agent, { scopes: ['agents:read'] });
    const delegate = await aChildCaller(t, root, { allowed_scopes: ['scopes:write', 'agents:read'] });
    const before = await rootScopes(root);

    await aScope(t, delegate, 'files:read'); // registered by a descendant: still the root's
    await aScope(t, root, 'files:write');
    expect(await rootScopes(root)).toEqual([...before, 'files:read', 'files:write'].sort());
    expect((await keyScopes(root, root.credentialId)).sort()).toEqual(
      [...before, 'files:read', 'files:write'].sort(),
    );
    expect(await keyScopes(root, narrowKey.credentialId)).toEqual(['agents:read']);
    // The descendant that registered it does not get it.
    const delegateRow = await request(t.http)
      .get(`${API}/agents/${delegate.agent.id}`)
      .set(root.auth)
      .expect(200);
    expect(delegateRow.body.allowed_scopes).toEqual(['agents:read', 'scopes:write']);

    // The root hands the scope down as usual: a child, and a key for it.
    const worker = await anAgent(t, root, { allowed_scopes: ['files:read'] });
    const workerKey = await aKey(t, root, worker, { scopes: ['files:read'] });
    expect(await keyScopes(root, workerKey.credentialId)).toEqual(['files:read']);
    // ... and never past what the child holds.
    const res = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'x', parent_agent_id: worker.id, allowed_scopes: ['files:write'] })
      .expect(403);
    expect(res.body.type).toBe(problem('scope_escalation'));
    // The narrow key cannot hand it out (CONTRACT §5).
    const narrow = await request(t.http)
      .post(`${API}/agents`)
      .set(narrowKey.auth)
      .send({ name: 'x', allowed_scopes: ['files:read'] });
    expect(narrow.status).toBe(403);
  });

  it('a registered wildcard is held by the root and collapses the names below it', async () => {
    const root = await aTree(t);
    await aScope(t, root, 'reports:daily');
    await aScope(t, root, 'reports:*');
    const scopes = await rootScopes(root);
    expect(scopes).toContain('reports:*');
    expect(scopes).not.toContain('reports:daily');
    // A concrete name must itself be registered, even under a registered wildcard.
    const unknown = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'x', allowed_scopes: ['reports:weekly'] })
      .expect(400);
    expect(unknown.body.unknown_scopes).toEqual(['reports:weekly']);
    await anAgent(t, root, { allowed_scopes: ['reports:*'] });
    await anAgent(t, root, { allowed_scopes: ['reports:daily'] });
  });

  it('accepts a wildcard that covers a registered scope, refuses one that covers none', async () => {
    const root = await aTree(t);
    await aScope(t, root, 'files:read:own');
    // files:* and files:read:* cover a registered scope; the root holds files:read:own only → escalation.
    for (const wildcard of ['files:*', 'files:read:*']) {
      const res = await request(t.http)
        .post(`${API}/agents`)
        .set(root.auth)
        .send({ name: 'x', allowed_scopes: [wildcard] })
        .expect(403);
      expect(res.body.type).toBe(problem('scope_escalation'));
    }
    for (const wildcard of ['billing:*', 'files:write:*', 'files:read:own:*']) {
      const res = await request(t.http)
        .post(`${API}/agents`)
        .set(root.auth)
        .send({ name: 'x', allowed_scopes: [wildcard] })
        .expect(400);
      expect(res.body.unknown_scopes).toEqual([wildcard]);
    }
    // Built-ins count too: agents:* covers agents:read (registered), so it is an escalation, not unknown.
    const agentsWildcard = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'x', allowed_scopes: ['agents:*'] })
      .expect(403);
    expect(agentsWildcard.body.type).toBe(problem('scope_escalation'));
  });

  it('sees a scope registered through another process at once', async () => {
    const other = await createTestApp();
    try {
      const root = await aTree(t);
      // Warm this process's cache for the tree.
      await anAgent(t, root, { allowed_scopes: ['agents:read'] });
      await aScope({ ...t, http: other.http, app: other.app }, root, 'late:scope');
      await anAgent(t, root, { allowed_scopes: ['late:scope'] });
    } finally {
      await other.close();
    }
  });
});
