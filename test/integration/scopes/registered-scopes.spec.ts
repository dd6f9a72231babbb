import request from 'supertest';
import { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { ACCESS_TOKEN_TYPE, ScopeResolver, TOKEN_EXCHANGE } from '@agentauth/auth';
import { createTestApp, type TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';
import { aChildCaller, aKey, anAgent, API, aTree, type Caller, requestToken } from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { treeSnapshot } from '../../factories/db';
import { aDelegation, delegationRows, fromNow, HOUR } from '../../factories/delegations';
import { aScope } from '../../factories/scopes';
import { delegationGrant } from '../delegations/grant-helpers';

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

  it('refuses reports:weekly under reports:* in a delegation and in every grant until it is registered', async () => {
    const root = await aTree(t);
    await aScope(t, root, 'reports:daily');
    await aScope(t, root, 'reports:*');
    const delegator = await aChildCaller(t, root, { allowed_scopes: ['delegations:write', 'reports:*'] });
    const delegate = await aChildCaller(t, root, { allowed_scopes: ['reports:*'] });
    const delegation = await aDelegation(t, delegator, {
      delegate_agent_id: delegate.agent.id,
      scopes: ['reports:*'],
    });
    const family = await requestToken(t, delegator, { scope: 'reports:* offline_access' }).expect(200);
    const weekly = { scope: 'reports:weekly' };
    // Every write of a delegation's or a token's scopes, each within every ceiling (reports:* covers it).
    const writes: [string, () => request.Test][] = [
      [
        'POST /delegations',
        () =>
          request(t.http)
            .post(`${API}/delegations`)
            .set(delegator.auth)
            .send({
              delegate_agent_id: delegate.agent.id,
              scopes: ['reports:weekly'],
              expires_at: fromNow(t, HOUR),
            }),
      ],
      ['client_credentials', () => requestToken(t, delegator, weekly)],
      [
        'refresh_token (narrowing)',
        () =>
          requestToken(t, delegator, {
            grant_type: 'refresh_token',
            refresh_token: family.body.refresh_token,
            ...weekly,
          }),
      ],
      [
        'token exchange',
        () =>
          // (only a token's own client, or its resource server's agent, may exchange it)
          requestToken(t, delegator, {
            grant_type: TOKEN_EXCHANGE,
            subject_token: delegator.accessToken,
            subject_token_type: ACCESS_TOKEN_TYPE,
            ...weekly,
          }),
      ],
      ['agent_delegation', () => delegationGrant(t, delegate, delegation.delegation_token as string, weekly)],
    ];

    const delegationsBefore = await delegationRows(root.agent.id);
    for (const [name, send] of writes) {
      const res = await send();
      const refusal =
        name === 'POST /delegations'
          ? { status: res.status, type: res.body.type, unknown_scopes: res.body.unknown_scopes }
          : { status: res.status, error: res.body.error, error_description: res.body.error_description };
      expect({ name, ...refusal }).toEqual({
        name,
        status: 400,
        ...(name === 'POST /delegations'
          ? { type: problem('unknown_scope'), unknown_scopes: ['reports:weekly'] }
          : { error: 'invalid_scope', error_description: 'Not registered scope(s): reports:weekly' }),
      });
    }
    expect(await delegationRows(root.agent.id)).toEqual(delegationsBefore);

    // Registered through another process: this one (whose cache holds the tree) accepts it at once.
    const other = await createTestApp();
    try {
      await aScope({ ...t, http: other.http, app: other.app }, root, 'reports:weekly');
    } finally {
      await other.close();
    }
    for (const [name, send] of writes) {
      const res = await send();
      expect({ name, status: res.status }).toEqual({
        name,
        status: name === 'POST /delegations' ? 201 : 200,
      });
      const scope = name === 'POST /delegations' ? res.body.scopes.join(' ') : res.body.scope;
      expect({ name, scope }).toEqual({ name, scope: 'reports:weekly' });
    }
  });

  it("checks a token request's scopes against the registry in memory: no database query on the warm path", async () => {
    const root = await aTree(t);
    await aScope(t, root, 'reports:daily');
    const worker = await anAgent(t, root, { allowed_scopes: ['reports:daily'] });
    const resolver = t.app.get(ScopeResolver);
    const clock = freezeClock(t); // the policy set stays within its recheck interval
    try {
      const resolution = {
        requested: ['reports:daily'],
        rootAgentId: root.agent.id,
        ceilings: [['reports:daily']],
        agents: [
          {
            id: worker.id,
            trust_level: 'delegated' as const,
            allowed_scopes: ['reports:daily'],
            active: true,
            ancestor_ids: [root.agent.id, worker.id],
          },
        ],
        resource: null,
        time: clock.clock.now(),
        delegationDepth: 0,
      };
      await resolver.resolve(resolution); // cold: loads the tree's scopes and policies

      const queries = jest.spyOn(PostgresQueryRunner.prototype, 'query');
      const dsQueries = jest.spyOn(t.app.get(DataSource), 'query');
      for (let i = 0; i < 200; i++) {
        const { scopes } = await resolver.resolve(resolution);
        if (scopes.join() !== 'reports:daily') throw new Error(`unexpected ${scopes.join()}`);
      }
      // The key ring's 30 s refresh may run meanwhile: the only background SQL, left out.
      const sqlOf = (spy: jest.SpyInstance) =>
        spy.mock.calls.map((call: unknown[]) => String(call[0])).filter((sql) => !/signing_keys/.test(sql));
      expect(sqlOf(queries)).toEqual([]);
      expect(sqlOf(dsQueries)).toEqual([]);
      queries.mockRestore();
      dsQueries.mockRestore();
    } finally {
      clock.restore();
    }
  });
});
