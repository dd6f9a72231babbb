import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { aChildCaller, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { auditEventsAbout } from '../../factories/db';
import { aResourceServer, anIdentifier, type ResourceServerJson } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { createTestApp, type TestApp } from '../../support/app';
import { claimsOf, exchangeToken } from '../auth/auth-helpers';

/** A 404 without its per-request part: what must be identical for an unknown id and a hidden one. */
function comparable(res: request.Response) {
  const { request_id: _requestId, ...body } = res.body as Record<string, unknown>;
  return { status: res.status, contentType: res.headers['content-type'], body };
}

const RS_SCOPES = ['agents:read', 'agents:write', 'resource-servers:read', 'resource-servers:write'];

/** `/resource-servers` (CONTRACT §8): registration rules, ownership, tree isolation, audit, stats. */
describe('resource servers API', () => {
  let t: TestApp;
  let root: Caller;
  let team: Caller; // mid-tree, may manage resource servers
  let sibling: Caller;
  let theirs: Caller;

  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    await aScope(t, root, 'files:read');
    await aScope(t, root, 'files:write');
    team = await aChildCaller(t, root, { allowed_scopes: [...RS_SCOPES, 'files:read'] });
    sibling = await aChildCaller(t, root, { allowed_scopes: RS_SCOPES });
    theirs = await aTree(t);
    await aScope(t, theirs, 'mail:send');
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (caller: Caller, body: Record<string, unknown>) =>
    request(t.http)
      .post(`${API}/resource-servers`)
      .set(caller.auth)
      .send({ identifier: anIdentifier(), name: 'files', scopes: ['files:read'], ...body });

  it('gives root agents the two built-in scopes', () => {
    expect(root.agent.allowed_scopes).toEqual(
      expect.arrayContaining(['resource-servers:read', 'resource-servers:write']),
    );
  });

  it('registers, shows, lists, updates and deletes a resource server, each change audited', async () => {
    const identifier = anIdentifier('files');
    const created = await create(root, {
      identifier,
      name: 'Files MCP',
      description: 'file tools',
      scopes: ['files:write', 'files:read'],
      access_token_ttl_seconds: 300,
    }).expect(201);
    const server = created.body as ResourceServerJson;
    expect(server).toEqual({
      id: expect.any(String),
      identifier,
      name: 'Files MCP',
      description: 'file tools',
      scopes: ['files:read', 'files:write'],
      agent_id: null,
      access_token_ttl_seconds: 300,
      dpop_required: false,
      root_agent_id: root.agent.id,
      owner_agent_id: root.agent.id,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const got = await request(t.http).get(`${API}/resource-servers/${server.id}`).set(root.auth).expect(200);
    expect(got.body).toEqual(server);
    const listed = await request(t.http)
      .get(`${API}/resource-servers`)
      .query({ limit: 200 })
      .set(root.auth)
      .expect(200);
    expect(listed.body.items.map((s: ResourceServerJson) => s.id)).toContain(server.id);
    expect(listed.body).toHaveProperty('next_cursor');

    const agent = await anAgent(t, root);
    const patched = await request(t.http)
      .patch(`${API}/resource-servers/${server.id}`)
      .set(root.auth)
      .send({ name: 'Files', scopes: ['files:read'], agent_id: agent.id, access_token_ttl_seconds: null })
      .expect(200);
    expect(patched.body).toMatchObject({
      identifier,
      name: 'Files',
      scopes: ['files:read'],
      agent_id: agent.id,
      access_token_ttl_seconds: null,
    });
    await request(t.http)
      .patch(`${API}/resource-servers/${server.id}`)
      .set(root.auth)
      .send({ identifier: anIdentifier() })
      .expect(400);

    await request(t.http).delete(`${API}/resource-servers/${server.id}`).set(root.auth).expect(204);
    await request(t.http).get(`${API}/resource-servers/${server.id}`).set(root.auth).expect(404);

    const events = await auditEventsAbout([server.id]);
    expect(events.map((e) => [e.event_type, e.outcome, e.actor_agent_id, e.root_agent_id])).toEqual([
      ['resource_server.created', 'success', root.agent.id, root.agent.id],
      ['resource_server.updated', 'success', root.agent.id, root.agent.id],
      ['resource_server.updated', 'failure', root.agent.id, root.agent.id], // the identifier cannot change
      ['resource_server.deleted', 'success', root.agent.id, root.agent.id],
    ]);
    expect(events[0].details).toMatchObject({ identifier });
    expect(events[1].details).toMatchObject({
      fields: ['name', 'scopes', 'agent_id', 'access_token_ttl_seconds'],
    });

    // The identifier is free again once deleted.
    await create(root, { identifier }).expect(201);
  });

  it('validates identifiers exactly as CONTRACT §8 says', async () => {
    const refused = [
      'files.example.com/mcp', // not absolute
      '/mcp',
      'https://files.example.com/mcp#frag',
      'http://files.example.com/mcp', // http off loopback
      'ftp://files.example.com/',
      'urn:example:files',
      'https://user:pass@files.example.com/',
      'https://files.example.com/a b',
      `${t.config.publicBaseUrl}/mcp`, // the issuer's own origin
      `${t.config.publicBaseUrl}${t.config.apiPrefix}`,
      `https://${'a'.repeat(520)}.example.com/`,
      '',
    ];
    for (const identifier of refused) {
      const res = await create(root, { identifier });
      expect({ identifier, status: res.status, field: res.body.errors?.[0]?.field }).toEqual({
        identifier,
        status: 400,
        field: 'identifier',
      });
    }
    for (const identifier of [
      `http://127.0.0.1:${4000 + Math.floor(Math.random() * 1000)}/mcp/${randomUUID()}`,
      `http://localhost:9/${randomUUID()}`,
      `http://[::1]:9/${randomUUID()}`,
    ]) {
      await create(root, { identifier }).expect(201);
    }
  });

  it('keeps identifiers unique across the whole server: another tree gets 409 identifier_unavailable', async () => {
    const server = await aResourceServer(t, root, { scopes: ['files:read'] });
    const other = await create(theirs, { identifier: server.identifier, scopes: ['mail:send'] });
    expect(other.status).toBe(409);
    expect(other.body.type).toBe('urn:agentauth:problem:identifier_unavailable');
    const same = await create(root, { identifier: server.identifier });
    expect(same.status).toBe(409);
    expect(same.body.type).toBe('urn:agentauth:problem:identifier_unavailable');
  });

  it('accepts only custom scopes registered in the tree', async () => {
    for (const scopes of [['files:delete'], ['mail:send'], ['agents:read'], ['resource-servers:*'], []]) {
      const res = await create(root, { scopes });
      expect({ scopes, status: res.status }).toEqual({ scopes, status: 400 });
    }
    const wildcard = await create(root, { scopes: ['files:*'] }).expect(201);
    expect(wildcard.body.scopes).toEqual(['files:*']);
  });

  it("names only an agent of the caller's subtree as agent_id (another tree's: 404 as unknown)", async () => {
    const theirAgent = await anAgent(t, theirs);
    const unknown = comparable(await create(root, { agent_id: randomUUID() }));
    expect(unknown.status).toBe(404);
    expect(comparable(await create(root, { agent_id: theirAgent.id }))).toEqual(unknown);
    expect(comparable(await create(team, { agent_id: sibling.agent.id }))).toEqual(unknown);
    const own = await create(team, { agent_id: team.agent.id }).expect(201);
    expect(own.body.agent_id).toBe(team.agent.id);
  });

  it('bounds access_token_ttl_seconds by the global lifetime', async () => {
    const max = t.config.accessTokenExpireMinutes * 60;
    await create(root, { access_token_ttl_seconds: max + 1 }).expect(400);
    await create(root, { access_token_ttl_seconds: 5 }).expect(400);
    await create(root, { access_token_ttl_seconds: '60' }).expect(400);
    await create(root, { access_token_ttl_seconds: max }).expect(201);
  });

  it('lets the owner and its ancestors manage a server; everyone else gets exactly the unknown-id answer', async () => {
    const server = await aResourceServer(t, team, { scopes: ['files:read'] });
    expect(server.owner_agent_id).toBe(team.agent.id);
    await request(t.http).get(`${API}/resource-servers/${server.id}`).set(root.auth).expect(200);
    for (const caller of [sibling, theirs]) {
      const list = await request(t.http)
        .get(`${API}/resource-servers`)
        .query({ limit: 200 })
        .set(caller.auth)
        .expect(200);
      expect(list.body.items.map((s: ResourceServerJson) => s.id)).not.toContain(server.id);
      const routes: [string, (id: string) => request.Test][] = [
        ['GET', (id) => request(t.http).get(`${API}/resource-servers/${id}`).set(caller.auth)],
        [
          'PATCH',
          (id) => request(t.http).patch(`${API}/resource-servers/${id}`).set(caller.auth).send({ name: 'x' }),
        ],
        ['DELETE', (id) => request(t.http).delete(`${API}/resource-servers/${id}`).set(caller.auth)],
      ];
      for (const [method, send] of routes) {
        const unknown = comparable(await send(randomUUID()));
        expect({ method, status: unknown.status }).toEqual({ method, status: 404 });
        expect({ method, ...comparable(await send(server.id)) }).toEqual({ method, ...unknown });
      }
    }
    const still = await request(t.http)
      .get(`${API}/resource-servers/${server.id}`)
      .set(team.auth)
      .expect(200);
    expect(still.body.name).toBe(server.name);
  });

  it('refuses a token carrying act (delegated or exchanged) any change: 403 act_not_allowed, nothing written', async () => {
    const server = await aResourceServer(t, root, { scopes: ['files:read'] });
    const exchanged = (await exchangeToken(t, root, root.accessToken).expect(200)).body
      .access_token as string;
    expect(claimsOf(exchanged).act).toEqual({ sub: root.agent.id });
    const asActor = { Authorization: `Bearer ${exchanged}` };
    const attempts = [
      request(t.http)
        .post(`${API}/resource-servers`)
        .set(asActor)
        .send({ identifier: anIdentifier(), name: 'x', scopes: ['files:read'] }),
      request(t.http).patch(`${API}/resource-servers/${server.id}`).set(asActor).send({ name: 'x' }),
      request(t.http).delete(`${API}/resource-servers/${server.id}`).set(asActor),
    ];
    for (const attempt of attempts) {
      const res = await attempt;
      expect({ status: res.status, type: res.body.type }).toEqual({
        status: 403,
        type: 'urn:agentauth:problem:act_not_allowed',
      });
    }
    // reading is fine, and nothing changed
    const got = await request(t.http).get(`${API}/resource-servers/${server.id}`).set(asActor).expect(200);
    expect(got.body).toEqual(server);
  });

  it('requires resource-servers:read / :write', async () => {
    const reader = await aChildCaller(t, root, { allowed_scopes: ['resource-servers:read'] });
    await request(t.http).get(`${API}/resource-servers`).set(reader.auth).expect(200);
    const res = await create(reader, {});
    expect(res.status).toBe(403);
    const nobody = await aChildCaller(t, root, { allowed_scopes: ['agents:read'] });
    await request(t.http).get(`${API}/resource-servers`).set(nobody.auth).expect(403);
  });

  it('counts resource servers in /stats', async () => {
    const stats = async () =>
      (await request(t.http).get(`${API}/stats`).set('X-Admin-Key', t.config.adminApiKey).expect(200)).body;
    const before = (await stats()).resource_servers.total as number;
    await aResourceServer(t, root, { scopes: ['files:read'] });
    expect((await stats()).resource_servers).toEqual({ total: before + 1 });
  });
});
