import request from 'supertest';
import { managementResourceIdentifier, protectedResourceMetadataUrl } from '@agentauth/core';
import {
  aKey,
  anAgent,
  API,
  aToken,
  aTree,
  basicAuth,
  type Caller,
  claimsOf,
  requestToken,
} from '../../factories/agents';
import { aDelegation } from '../../factories/delegations';
import { aPolicy } from '../../factories/policies';
import { aResourceServer, anIdentifier, type ResourceServerJson } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { createTestApp, type TestApp } from '../../support/app';
import { exchangeToken, guardStatus, introspect, isActive } from '../auth/auth-helpers';
import { delegationGrant } from '../delegations/grant-helpers';

/** An OAuth error body without anything per-request. */
function oauthError(res: request.Response) {
  return { status: res.status, body: res.body as Record<string, unknown> };
}

/**
 * Audience-bound tokens (CONTRACT §8, RFC 8707): `resource` on every grant, the server's scopes as a
 * ceiling, `invalid_target` for anything that is not a server of the caller's tree, the tightened token
 * exchange, refresh families keeping their resource, policies with the identifier as resource, and the
 * deletion of a server killing its tokens.
 */
describe('audience-bound tokens', () => {
  let t: TestApp;
  let root: Caller;
  let worker: Caller; // files:read|write|delete and mail:send, the client of most tokens here
  let serverAgent: Caller; // the agent server A authenticates as
  let bystander: Caller; // an unrelated agent of the same tree
  let serverA: ResourceServerJson;
  let serverB: ResourceServerJson;
  let theirs: Caller;
  let theirServer: ResourceServerJson;

  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    for (const name of ['files:read', 'files:write', 'files:delete', 'mail:send'])
      await aScope(t, root, name);
    worker = await aKey(
      t,
      root,
      await anAgent(t, root, {
        allowed_scopes: ['files:read', 'files:write', 'files:delete', 'mail:send', 'agents:read'],
      }),
    );
    serverAgent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['files:read'] }));
    bystander = await aKey(
      t,
      root,
      await anAgent(t, root, { allowed_scopes: ['files:read', 'files:write'] }),
    );
    serverA = await aResourceServer(t, root, {
      identifier: anIdentifier('a'),
      scopes: ['files:read', 'files:write'],
      agent_id: serverAgent.agent.id,
    });
    serverB = await aResourceServer(t, root, { identifier: anIdentifier('b'), scopes: ['files:read'] });
    theirs = await aTree(t);
    await aScope(t, theirs, 'files:read');
    theirServer = await aResourceServer(t, theirs, { scopes: ['files:read'] });
  });
  afterAll(async () => {
    await t.close();
  });

  const tokenFor = (holder: Caller, resource: string, extra: Record<string, string> = {}) =>
    requestToken(t, holder, { resource, ...extra });

  it("binds a token to A: aud = A's identifier, only A's scopes (no scope = the intersection), refused by the management API", async () => {
    const res = await tokenFor(worker, serverA.identifier).expect(200);
    expect(res.body.scope).toBe('files:read files:write');
    const claims = claimsOf(res.body.access_token);
    expect(claims).toMatchObject({
      aud: serverA.identifier,
      scope: 'files:read files:write',
      client_id: worker.agent.id,
      resource_server_id: serverA.id,
    });
    expect(await guardStatus(t, res.body.access_token)).toBe(401);
    // Introspection says who it is for.
    const introspected = await introspect(t, root, res.body.access_token).expect(200);
    expect(introspected.body).toMatchObject({ active: true, aud: serverA.identifier });
  });

  it('refuses a requested scope outside the server’s with invalid_scope, and an empty intersection too', async () => {
    for (const scope of ['mail:send', 'files:delete', 'files:read mail:send', 'agents:read']) {
      const res = await tokenFor(worker, serverA.identifier, { scope });
      expect({ scope, status: res.status, error: res.body.error }).toEqual({
        scope,
        status: 400,
        error: 'invalid_scope',
      });
    }
    const mailer = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['mail:send'] }));
    const empty = await tokenFor(mailer, serverA.identifier);
    expect(oauthError(empty)).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const ok = await tokenFor(worker, serverA.identifier, { scope: 'files:read' }).expect(200);
    expect(ok.body.scope).toBe('files:read');
  });

  it('answers invalid_target for another tree’s identifier exactly as for an unknown one, and for several', async () => {
    const unknown = oauthError(await tokenFor(worker, anIdentifier('nobody')));
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    expect(oauthError(await tokenFor(worker, theirServer.identifier))).toEqual(unknown);
    // The other tree's own agents get it, of course.
    await tokenFor(theirs, theirServer.identifier).expect(200);
    const several = await request(t.http)
      .post(`${API}/auth/token`)
      .set(basicAuth(worker.agent.id, worker.apiKey))
      .type('form')
      .send(
        `grant_type=client_credentials&resource=${encodeURIComponent(serverA.identifier)}&resource=${encodeURIComponent(serverB.identifier)}`,
      );
    expect(oauthError(several)).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
  });

  it('treats the management identifier and the bare base URL as no resource', async () => {
    const management = managementResourceIdentifier(t.config);
    for (const resource of [management, t.config.publicBaseUrl, undefined]) {
      const token = await aToken(t, worker, resource ? { resource } : {});
      const claims = claimsOf(token);
      expect({ resource, aud: claims.aud, rs: claims.resource_server_id }).toEqual({
        resource,
        aud: management,
        rs: undefined,
      });
      expect(await guardStatus(t, token)).toBe(200);
    }
  });

  it('issues concrete scope names for a wildcard server and applies the server’s token lifetime', async () => {
    const wide = await aResourceServer(t, root, { scopes: ['files:*'], access_token_ttl_seconds: 60 });
    const res = await tokenFor(worker, wide.identifier).expect(200);
    expect(res.body.scope).toBe('files:delete files:read files:write');
    expect(res.body.expires_in).toBe(60);
    const claims = claimsOf(res.body.access_token);
    expect(claims.exp - claims.iat).toBe(60);
  });

  it('lets only the subject’s client or A’s agent_id exchange A’s token; moves to B only by downscoping', async () => {
    const subject = (await tokenFor(worker, serverA.identifier).expect(200)).body.access_token as string;

    const byBystander = await exchangeToken(t, bystander, subject);
    expect(oauthError(byBystander)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const byBystanderToB = await exchangeToken(t, bystander, subject, { resource: serverB.identifier });
    expect(oauthError(byBystanderToB)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // A's own agent, on behalf of the worker, for a downstream call to B.
    const onBehalf = await exchangeToken(t, serverAgent, subject, { resource: serverB.identifier }).expect(
      200,
    );
    expect(onBehalf.body.scope).toBe('files:read');
    expect(claimsOf(onBehalf.body.access_token)).toMatchObject({
      aud: serverB.identifier,
      sub: worker.agent.id,
      client_id: serverAgent.agent.id,
      act: { sub: serverAgent.agent.id },
      resource_server_id: serverB.id,
    });
    // Escalation: a scope B does not accept, a scope the subject token lacks, the management API.
    for (const [params, error] of [
      [{ resource: serverB.identifier, scope: 'files:write' }, 'invalid_scope'],
      [{ resource: serverB.identifier, scope: 'mail:send' }, 'invalid_scope'],
      [{ audience: serverB.identifier, scope: 'files:delete' }, 'invalid_scope'],
      [{ resource: managementResourceIdentifier(t.config) }, 'invalid_target'],
      [{ resource: theirServer.identifier }, 'invalid_target'],
    ] as [Record<string, string>, string][]) {
      const res = await exchangeToken(t, worker, subject, params);
      expect({ params, status: res.status, error: res.body.error }).toEqual({ params, status: 400, error });
    }
    // The subject's own client downscopes it for B (no scope: subject ∩ key ∩ B).
    const own = await exchangeToken(t, worker, subject, { audience: serverB.identifier }).expect(200);
    expect(own.body.scope).toBe('files:read');
    expect(claimsOf(own.body.access_token).aud).toBe(serverB.identifier);
  });

  it('keeps the family’s resource on refresh: omitted = the family’s, another = invalid_target', async () => {
    const first = await tokenFor(worker, serverA.identifier, { scope: 'files:read offline_access' }).expect(
      200,
    );
    const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
      request(t.http)
        .post(`${API}/auth/token`)
        .set(basicAuth(worker.agent.id, worker.apiKey))
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });
    for (const resource of [serverB.identifier, managementResourceIdentifier(t.config), anIdentifier()]) {
      const res = await refresh(first.body.refresh_token, { resource });
      expect({ resource, status: res.status, error: res.body.error }).toEqual({
        resource,
        status: 400,
        error: 'invalid_target',
      });
    }
    const omitted = await refresh(first.body.refresh_token).expect(200);
    expect(claimsOf(omitted.body.access_token)).toMatchObject({
      aud: serverA.identifier,
      scope: 'files:read',
      resource_server_id: serverA.id,
    });
    const repeated = await refresh(omitted.body.refresh_token, { resource: serverA.identifier }).expect(200);
    expect(claimsOf(repeated.body.access_token).aud).toBe(serverA.identifier);
  });

  it('binds agent_delegation tokens (and their refreshes) to the resource too', async () => {
    const delegation = await aDelegation(t, root, {
      delegate_agent_id: bystander.agent.id,
      scopes: ['files:read', 'files:delete'],
    });
    const token = delegation.delegation_token as string;
    const res = await delegationGrant(t, bystander, token, { resource: serverA.identifier }).expect(200);
    // The delegation's scopes ∩ A's: files:delete is not A's.
    expect(res.body.scope).toBe('files:read');
    expect(claimsOf(res.body.access_token)).toMatchObject({
      aud: serverA.identifier,
      sub: root.agent.id,
      act: { sub: bystander.agent.id },
      resource_server_id: serverA.id,
    });
    const refreshed = await request(t.http)
      .post(`${API}/auth/token`)
      .set(basicAuth(bystander.agent.id, bystander.apiKey))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token })
      .expect(200);
    expect(claimsOf(refreshed.body.access_token).aud).toBe(serverA.identifier);
    const other = await delegationGrant(t, bystander, token, { resource: theirServer.identifier });
    expect(oauthError(other)).toMatchObject({ status: 400, body: { error: 'invalid_target' } });
    const outside = await delegationGrant(t, bystander, token, {
      resource: serverB.identifier,
      scope: 'files:delete',
    });
    expect(oauthError(outside)).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
  });

  it("applies a deny policy naming A's identifier as resource to tokens for A only", async () => {
    const policy = await aPolicy(t, root, {
      subjects: [worker.agent.id],
      actions: ['files:read'],
      resources: [serverA.identifier],
    });
    try {
      const forA = await tokenFor(worker, serverA.identifier, { scope: 'files:read' });
      expect(oauthError(forA)).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
      const defaultForA = await tokenFor(worker, serverA.identifier).expect(200);
      expect(defaultForA.body.scope).toBe('files:write');
      await tokenFor(worker, serverB.identifier, { scope: 'files:read' }).expect(200);
      await requestToken(t, worker, { scope: 'files:read' }).expect(200); // the management API
    } finally {
      await request(t.http).delete(`${API}/policies/${policy.id}`).set(root.auth).expect(204);
    }
  });

  it('kills the tokens and refresh families of a deleted server; registering it again revives nothing', async () => {
    const server = await aResourceServer(t, root, {
      scopes: ['files:read'],
      agent_id: serverAgent.agent.id,
    });
    const access = (await tokenFor(worker, server.identifier).expect(200)).body.access_token as string;
    const withRefresh = await tokenFor(worker, server.identifier, {
      scope: 'files:read offline_access',
    }).expect(200);
    const exchanged = (
      await exchangeToken(t, serverAgent, access, { resource: serverB.identifier }).expect(200)
    ).body.access_token as string;
    const other = (await tokenFor(worker, serverB.identifier).expect(200)).body.access_token as string;
    for (const token of [access, withRefresh.body.access_token, exchanged, other]) {
      expect(await isActive(t, root, token)).toBe(true);
    }

    await request(t.http).delete(`${API}/resource-servers/${server.id}`).set(root.auth).expect(204);

    for (const token of [access, withRefresh.body.access_token, exchanged]) {
      expect(await isActive(t, root, token)).toBe(false);
    }
    expect(await isActive(t, root, other)).toBe(true);
    const refreshed = await request(t.http)
      .post(`${API}/auth/token`)
      .set(basicAuth(worker.agent.id, worker.apiKey))
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: withRefresh.body.refresh_token });
    expect(oauthError(refreshed)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(oauthError(await tokenFor(worker, server.identifier))).toMatchObject({
      status: 400,
      body: { error: 'invalid_target' },
    });

    const again = await aResourceServer(t, root, { identifier: server.identifier, scopes: ['files:read'] });
    expect(await isActive(t, root, access)).toBe(false);
    const fresh = (await tokenFor(worker, again.identifier).expect(200)).body.access_token as string;
    expect(await isActive(t, root, fresh)).toBe(true);
  });

  it('names the RFC 9728 metadata in the 401 of GET /api/v1/agents, and that URL answers it', async () => {
    const metadataUrl = protectedResourceMetadataUrl(t.config);
    for (const auth of [
      undefined,
      'Bearer not-a-token',
      `Bearer ${(await tokenFor(worker, serverA.identifier)).body.access_token}`,
    ]) {
      const req = request(t.http).get(`${API}/agents`);
      const res = await (auth ? req.set('Authorization', auth) : req);
      expect(res.status).toBe(401);
      const challenge: string = res.headers['www-authenticate'];
      expect(challenge.startsWith('Bearer ')).toBe(true);
      expect(challenge).toContain(`resource_metadata="${metadataUrl}"`);
      if (auth) expect(challenge).toContain('error="invalid_token"');
    }
    const path = new URL(metadataUrl).pathname;
    expect(path).toBe(`/.well-known/oauth-protected-resource${t.config.apiPrefix}`);
    const metadata = await request(t.http).get(path).expect(200);
    expect(metadata.headers['content-type']).toMatch(/^application\/json/);
    expect(metadata.body).toEqual({
      resource: managementResourceIdentifier(t.config),
      authorization_servers: [t.config.publicBaseUrl],
      scopes_supported: expect.arrayContaining(['agents:read', 'resource-servers:write']),
      bearer_methods_supported: ['header'],
      resource_name: expect.any(String),
      resource_documentation: `${t.config.publicBaseUrl}/docs`,
    });
    const rootForm = await request(t.http).get('/.well-known/oauth-protected-resource').expect(200);
    expect(rootForm.body.resource).toBe(t.config.publicBaseUrl);
    expect(rootForm.body.authorization_servers).toEqual([t.config.publicBaseUrl]);
    await request(t.http).get('/.well-known/oauth-protected-resource/api/v2').expect(404);
    // The issuer's discovery names built-in scopes only: no tree's custom scope.
    const discovery = await request(t.http).get('/.well-known/oauth-authorization-server').expect(200);
    expect(discovery.body.scopes_supported).toContain('resource-servers:read');
    expect(discovery.body.scopes_supported).not.toContain('files:read');
    const agentConfiguration = await request(t.http).get('/.well-known/agent-configuration').expect(200);
    expect(agentConfiguration.body).toMatchObject({
      resource_servers_endpoint: `${t.config.publicBaseUrl}${t.config.apiPrefix}/resource-servers`,
      protected_resource_metadata: metadataUrl,
    });
    expect(agentConfiguration.body.scopes_supported).not.toContain('files:read');
  });
});
