import { AgentAuthClient, OAuthError, ProblemError, managementClientFor, unwrap } from '@agentauth/sdk';
import { anAgent, aKey, aTree, type Caller, claimsOf } from '../../factories/agents';
import { FakeClock } from '../../unit/sdk/fake-server';
import type { TestApp } from '../../support/app';
import { aScope } from '../../factories/scopes';
import { aResourceServer, countingFetch, listeningApp } from './sdk-helpers';

const SCOPES = ['agents:read', 'agents:write', 'credentials:write', 'delegations:read', 'delegations:write'];

describe('AgentAuthClient against a real server', () => {
  let t: TestApp & { base: string };
  beforeAll(async () => {
    t = await listeningApp();
  });
  afterAll(async () => {
    await t.close();
  });

  function clientFor(caller: Caller, extra: Partial<ConstructorParameters<typeof AgentAuthClient>[0]> = {}) {
    return new AgentAuthClient({
      issuer: t.base,
      clientId: caller.agent.id,
      clientSecret: caller.apiKey,
      ...extra,
    });
  }

  it('obtains a token by discovery, caches it, shares one request among concurrent callers and renews it', async () => {
    const root = await aTree(t);
    const clock = new FakeClock(Date.now());
    const counter = countingFetch();
    const client = clientFor(root, { fetch: counter.fetch, clock, renewBeforeExpirySeconds: 60 });

    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => client.getToken({ scope: 'agents:read' })),
    );
    expect(new Set(concurrent).size).toBe(1);
    expect(counter.count('/auth/token')).toBe(1);
    const claims = claimsOf(concurrent[0]);
    expect(claims).toMatchObject({
      iss: t.base,
      sub: root.agent.id,
      client_id: root.agent.id,
      scope: 'agents:read',
    });

    expect(await client.getToken({ scope: 'agents:read' })).toBe(concurrent[0]);
    expect(counter.count('/auth/token')).toBe(1);

    const lifetimeMs = (claims.exp - claims.iat) * 1000;
    clock.advance(lifetimeMs - 60_000);
    const renewed = await client.getToken({ scope: 'agents:read' });
    expect(renewed).not.toBe(concurrent[0]);
    expect(claimsOf(renewed).jti).not.toBe(claims.jti);
    expect(counter.count('/auth/token')).toBe(2);
  });

  it('passes the resource through: a token for a registered resource server has its identifier as aud', async () => {
    const root = await aTree(t);
    const identifier = `https://calendar-${root.agent.id}.example/api`;
    await aScope(t, root, 'calendar:read');
    await aResourceServer(t, root, identifier, ['calendar:read']);
    const client = clientFor(root);
    const management = claimsOf(await client.getToken());
    expect(management.aud).toBe(`${t.base}/api/v1`);
    const forServer = claimsOf(await client.getToken({ resource: identifier }));
    expect(forServer.aud).toBe(identifier);
    // No scope asked: the credential's scopes ∩ the server's (CONTRACT §8).
    expect(forServer.scope).toBe('calendar:read');

    const unregistered = (await client
      .getToken({ resource: `https://unregistered-${root.agent.id}.example/api` })
      .catch((e: unknown) => e)) as OAuthError;
    expect(unregistered).toBeInstanceOf(OAuthError);
    expect(unregistered.error).toBe('invalid_target');
  });

  it('surfaces a refused client as OAuthError invalid_client with the request id', async () => {
    const root = await aTree(t);
    const client = new AgentAuthClient({
      issuer: t.base,
      clientId: root.agent.id,
      clientSecret: 'aa_wrong_key',
    });
    const error = (await client.getToken().catch((e: unknown) => e)) as OAuthError;
    expect(error).toBeInstanceOf(OAuthError);
    expect(error.error).toBe('invalid_client');
    expect(error.status).toBe(401);
    expect(error.requestId).toMatch(/.+/);
  });

  it('refreshes, exchanges, introspects and revokes', async () => {
    const root = await aTree(t);
    const client = clientFor(root);
    const withRefresh = await client.getTokenSet({ scope: 'agents:read agents:write offline_access' });
    expect(withRefresh.refreshToken).toEqual(expect.any(String));
    const refreshed = await client.refresh(withRefresh.refreshToken!, { scope: 'agents:read' });
    expect(refreshed.scope).toBe('agents:read');
    await expect(client.refresh(withRefresh.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const subject = await client.getToken({ scope: 'agents:read agents:write' });
    const exchanged = await client.exchange({ subjectToken: subject, scope: 'agents:read' });
    expect(exchanged.issuedTokenType).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(claimsOf(exchanged.accessToken)).toMatchObject({
      scope: 'agents:read',
      act: { sub: root.agent.id },
    });

    expect(await client.introspect(exchanged.accessToken)).toMatchObject({
      active: true,
      scope: 'agents:read',
    });
    await client.revoke(exchanged.accessToken);
    expect(await client.introspect(exchanged.accessToken)).toEqual({ active: false });
  });

  it('delegates to another agent, which gets a token from the delegation', async () => {
    const root = await aTree(t, { allowed_scopes: SCOPES });
    const delegate = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
    const rootClient = clientFor(root);
    const delegateClient = clientFor(delegate);
    const delegation = await rootClient.delegate({
      delegateAgentId: delegate.agent.id,
      scopes: ['agents:read'],
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect(delegation).toMatchObject({ delegate_agent_id: delegate.agent.id, scopes: ['agents:read'] });
    const tokenSet = await delegateClient.tokenFromDelegation(delegation.delegation_token);
    expect(claimsOf(tokenSet.accessToken)).toMatchObject({
      sub: root.agent.id,
      client_id: delegate.agent.id,
      act: { sub: delegate.agent.id },
      delegation_id: delegation.id,
    });
    expect(tokenSet.refreshToken).toEqual(expect.any(String));

    const escalation = await rootClient
      .delegate({
        delegateAgentId: delegate.agent.id,
        scopes: ['policies:write'],
        expiresAt: new Date(Date.now() + 60_000),
      })
      .catch((e: unknown) => e);
    expect(escalation).toBeInstanceOf(ProblemError);
    expect((escalation as ProblemError).status).toBe(403);
  });

  it('drives the management API with the typed client and fetch(), and renews a revoked token once', async () => {
    const root = await aTree(t, { allowed_scopes: SCOPES });
    const counter = countingFetch();
    const client = clientFor(root, { fetch: counter.fetch });
    const management = managementClientFor(client);
    const created = await unwrap(
      management.POST('/api/v1/agents', { body: { name: 'sdk-child', allowed_scopes: ['agents:read'] } }),
    );
    expect(created).toMatchObject({ name: 'sdk-child', parent_agent_id: root.agent.id });
    const fetched = await unwrap(
      management.GET('/api/v1/agents/{id}', { params: { path: { id: created.id } } }),
    );
    expect(fetched.id).toBe(created.id);

    const missing = await unwrap(
      management.GET('/api/v1/agents/{id}', {
        params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
      }),
    ).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ProblemError);
    expect(missing).toMatchObject({ status: 404, requestId: expect.any(String) });

    // The cached token is revoked behind the client's back: fetch() gets 401 invalid_token, renews, retries.
    await client.revoke(await client.getToken());
    expect(counter.count('/auth/token')).toBe(1);
    const res = await client.fetch(`${t.base}/api/v1/agents/${created.id}`);
    expect(res.status).toBe(200);
    expect(counter.count('/auth/token')).toBe(2);
    expect(counter.count(`/agents/${created.id}`)).toBe(3);
  });
});
