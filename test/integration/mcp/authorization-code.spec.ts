import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { aChildCaller, API, aTree, type AgentJson, type Caller, claimsOf } from '../../factories/agents';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { listeningApp, type TestApp } from '../../support/app';
import {
  anApprover,
  aPublicClient,
  type CallbackServer,
  introspect,
  PublicClientProvider,
  signInAndDecide,
  startCallbackServer,
  tokenRequest,
} from '../../support/authorize-flow';
import { describeWithBrowser, useBrowser } from '../../support/browser';
import { type McpTestServer, startMcpServer, whoamiOf } from '../../support/mcp-server';

const SCOPE = 'mcp:tools';

/**
 * Issue #21, "done when" (3): the official MCP SDK client, unmodified, through the authorization-code flow.
 * Its `redirectToAuthorization` opens the URL in a real headless Chromium, where an agent of the client's
 * tree signs in and approves; the redirect lands on the client's loopback callback; the SDK finishes with
 * the code and calls a tool that sees the approver as `sub` and the client as the actor.
 */
describeWithBrowser('MCP SDK authorization-code flow (PKCE) through a real browser', () => {
  const browser = useBrowser();
  let t: TestApp & { base: string };
  let root: Caller;
  let mcp: McpTestServer;
  let callbacks: CallbackServer;
  let client: AgentJson;
  let approver: Caller;

  beforeAll(async () => {
    t = await listeningApp();
    root = await aTree(t);
    await aScope(t, root, SCOPE, 'Call the test MCP server tools');
    // The MCP server authenticates as its own agent to introspect: a revoked token is refused at once.
    const server = await aChildCaller(t, root, { allowed_scopes: ['tokens:introspect'] });
    mcp = await startMcpServer({
      issuer: t.base,
      scopesSupported: [SCOPE],
      requiredScopes: [SCOPE],
      introspectAs: { clientId: server.agent.id, clientSecret: server.apiKey },
    });
    await aResourceServer(t, root, {
      identifier: mcp.resource,
      name: 'test MCP server',
      scopes: [SCOPE],
      agent_id: server.agent.id,
    });
    callbacks = await startCallbackServer();
    client = await aPublicClient(t, root, {
      name: 'Test MCP client',
      redirect_uris: [callbacks.registeredUri],
      allowed_scopes: [SCOPE],
    });
    approver = await anApprover(t, root, [SCOPE]);
  });
  afterAll(async () => {
    await callbacks?.close();
    await mcp?.close();
    await t?.close();
  });

  it('signs in and approves in the browser; the tool sees the approver as sub and the client as actor', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let person: Promise<unknown> | undefined;
    const provider = new PublicClientProvider(client.id, callbacks.redirectUri, (url) => {
      // What an MCP client does: open the system browser. Here the person is scripted.
      person = signInAndDecide(page, url.href, { agentId: approver.agent.id, apiKey: approver.apiKey });
    });

    // First connect: 401 from the MCP server → discovery → the SDK sends the person to AgentAuth.
    const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
    await expect(new Client({ name: 'mcp-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(provider.authorizationUrls).toHaveLength(1);
    const asked = provider.authorizationUrls[0];
    expect(`${asked.origin}${asked.pathname}`).toBe(`${t.base}/api/v1/auth/authorize`);
    expect(Object.fromEntries(asked.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: callbacks.redirectUri,
      code_challenge_method: 'S256',
      resource: mcp.resource,
      scope: SCOPE,
      state: provider.lastState,
    });

    // The browser lands on the client's loopback callback with the code, the state and the issuer (RFC 9207).
    const callback = await callbacks.forState(provider.lastState!);
    await person;
    expect(callback.searchParams.get('iss')).toBe(t.base);
    expect(callback.searchParams.get('state')).toBe(provider.lastState);
    expect(callback.searchParams.get('error')).toBeNull();
    const code = callback.searchParams.get('code');
    expect(code).toEqual(expect.any(String));

    await first.finishAuth(code!);
    const tokens = provider.tokens();
    expect(tokens).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), scope: SCOPE });
    expect(tokens?.refresh_token).toEqual(expect.any(String));

    const mcpClient = new Client({ name: 'mcp-test', version: '1.0.0' });
    await mcpClient.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }));
    try {
      const who = whoamiOf(await mcpClient.callTool({ name: 'whoami', arguments: {} }));
      expect(who).toMatchObject({
        sub: approver.agent.id,
        act: { sub: client.id },
        client_id: client.id,
        aud: mcp.resource,
        scopes: [SCOPE],
      });
      expect(who.delegation_id).toEqual(expect.any(String));
      expect(claimsOf(tokens!.access_token)).toMatchObject({ iss: t.base, aud: mcp.resource });

      // The approval is an ordinary delegation, listed in /delegations: approver → client, the granted scope,
      // the resource, a first hop that cannot be re-delegated (`max_depth` is the deepest depth a chain may
      // reach, so a consent's equals its own depth: CONTRACT §11's "max_depth: 0" re-delegations).
      const delegation = await request(t.http).get(`${API}/delegations/${who.delegation_id}`).set(root.auth);
      expect(delegation.status).toBe(200);
      expect(delegation.body).toMatchObject({
        kind: 'authorization_code',
        delegator_agent_id: approver.agent.id,
        delegate_agent_id: client.id,
        scopes: [SCOPE],
        resource: mcp.resource,
        depth: 1,
        max_depth: 1,
        status: 'active',
      });
    } finally {
      await mcpClient.close();
    }
  });

  it('the SDK refreshes the tokens; revoking the delegation in /delegations kills access and refresh tokens', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let person: Promise<unknown> | undefined;
    const provider = new PublicClientProvider(client.id, callbacks.redirectUri, (url) => {
      // The first time the person approves; after the revocation the SDK asks again and nobody answers.
      if (!person) {
        person = signInAndDecide(page, url.href, { agentId: approver.agent.id, apiKey: approver.apiKey });
      }
    });
    const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
    await expect(new Client({ name: 'mcp-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const callback = await callbacks.forState(provider.lastState!);
    await person;
    await first.finishAuth(callback.searchParams.get('code')!);
    const original = provider.tokens()!;
    const delegationId = claimsOf(original.access_token).delegation_id as string;

    // The SDK's own refresh (what its transport does on a 401): the public client, client_id only, rotated.
    await expect(auth(provider, { serverUrl: new URL(mcp.url) })).resolves.toBe('AUTHORIZED');
    const refreshed = provider.tokens()!;
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(original.refresh_token);
    expect(claimsOf(refreshed.access_token)).toMatchObject({
      sub: approver.agent.id,
      act: { sub: client.id },
      aud: mcp.resource,
      delegation_id: delegationId,
    });
    const before = await connected(provider);
    expect(whoamiOf(await before.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({
      sub: approver.agent.id,
      delegation_id: delegationId,
    });
    await before.close();

    // The approver's tree revokes the approval like any delegation.
    const revoked = await request(t.http).delete(`${API}/delegations/${delegationId}`).set(root.auth);
    expect(revoked.status).toBeLessThan(300);
    const listed = await request(t.http).get(`${API}/delegations/${delegationId}`).set(root.auth);
    expect(listed.body).toMatchObject({ status: 'revoked' });

    for (const token of [original.access_token, refreshed.access_token]) {
      expect(await introspect(t.base, root, token)).toEqual({ active: false });
    }
    const refresh = await tokenRequest(t.base, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.refresh_token!,
      client_id: client.id,
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    // The SDK client finds out by itself: the MCP server refuses the token (introspection), the refresh
    // fails with invalid_grant, the SDK drops the tokens and sends the person to AgentAuth again.
    await expect(connected(provider)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.authorizationUrls).toHaveLength(2);
    expect(provider.tokens()).toBeUndefined();
  });

  it('a confidential client (an agent with an API key and a redirect URI) authenticates at the token endpoint', async () => {
    const confidential = await aChildCaller(t, root, {
      name: 'Confidential MCP client',
      redirect_uris: [callbacks.registeredUri],
      allowed_scopes: [SCOPE],
    });
    const page = await (await browser.newContext()).newPage();
    let person: Promise<unknown> | undefined;
    const provider = new PublicClientProvider(
      confidential.agent.id,
      callbacks.redirectUri,
      (url) => {
        person = signInAndDecide(page, url.href, { agentId: approver.agent.id, apiKey: approver.apiKey });
      },
      confidential.apiKey,
    );
    // The requests the SDK makes, to see how it authenticates at the token endpoint.
    const tokenRequests: { authorization: string | null; body: URLSearchParams }[] = [];
    const watching: typeof fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url === `${t.base}/api/v1/auth/token`) {
        tokenRequests.push({
          authorization: new Headers(init?.headers).get('authorization'),
          body: new URLSearchParams(init?.body instanceof URLSearchParams ? init.body : undefined),
        });
      }
      return fetch(input, init);
    };
    const first = new StreamableHTTPClientTransport(new URL(mcp.url), {
      authProvider: provider,
      fetch: watching,
    });
    await expect(new Client({ name: 'mcp-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const callback = await callbacks.forState(provider.lastState!);
    await person;
    expect(callback.searchParams.get('iss')).toBe(t.base);
    await first.finishAuth(callback.searchParams.get('code')!);
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0].authorization).toMatch(/^Basic /);
    expect(tokenRequests[0].body.get('grant_type')).toBe('authorization_code');
    expect(tokenRequests[0].body.get('client_secret')).toBeNull();

    const mcpClient = await connected(provider);
    try {
      expect(whoamiOf(await mcpClient.callTool({ name: 'whoami', arguments: {} }))).toMatchObject({
        sub: approver.agent.id,
        act: { sub: confidential.agent.id },
        client_id: confidential.agent.id,
        aud: mcp.resource,
      });
    } finally {
      await mcpClient.close();
    }
  });

  async function connected(provider: PublicClientProvider): Promise<Client> {
    const mcpClient = new Client({ name: 'mcp-test', version: '1.0.0' });
    await mcpClient.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }));
    return mcpClient;
  }
});
