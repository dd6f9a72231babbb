import request from 'supertest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { API, aTree, type AgentJson, type Caller, claimsOf } from '../../factories/agents';
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
    mcp = await startMcpServer({ issuer: t.base, scopesSupported: [SCOPE], requiredScopes: [SCOPE] });
    await aResourceServer(t, root, { identifier: mcp.resource, name: 'test MCP server', scopes: [SCOPE] });
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
    const callback = await callbacks.next();
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

      // The approval is an ordinary delegation: approver → client, the granted scope, no re-delegation.
      const delegation = await request(t.http).get(`${API}/delegations/${who.delegation_id}`).set(root.auth);
      expect(delegation.status).toBe(200);
      expect(delegation.body).toMatchObject({
        delegator_agent_id: approver.agent.id,
        delegate_agent_id: client.id,
        scopes: [SCOPE],
        max_depth: 0,
        status: 'active',
      });
    } finally {
      await mcpClient.close();
    }
  });

  it("the SDK refreshes with the family's refresh token; revoking the delegation ends both", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    let person: Promise<unknown> | undefined;
    const provider = new PublicClientProvider(client.id, callbacks.redirectUri, (url) => {
      person = signInAndDecide(page, url.href, { agentId: approver.agent.id, apiKey: approver.apiKey });
    });
    const first = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
    await expect(new Client({ name: 'mcp-test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const callback = await callbacks.next();
    await person;
    await first.finishAuth(callback.searchParams.get('code')!);
    const { access_token: accessToken, refresh_token: refreshToken } = provider.tokens()!;
    const delegationId = claimsOf(accessToken).delegation_id as string;

    // The refresh token works for the public client (client_id, no authentication) and rotates.
    const refreshed = await tokenRequest(t.base, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken!,
      client_id: client.id,
    });
    expect(refreshed.status).toBe(200);
    expect(claimsOf(refreshed.body.access_token as string)).toMatchObject({
      sub: approver.agent.id,
      act: { sub: client.id },
      aud: mcp.resource,
      delegation_id: delegationId,
    });

    const revoked = await request(t.http).delete(`${API}/delegations/${delegationId}`).set(root.auth);
    expect(revoked.status).toBeLessThan(300);

    for (const token of [accessToken, refreshed.body.access_token as string]) {
      expect(await introspect(t.base, root, token)).toEqual({ active: false });
    }
    const again = await tokenRequest(t.base, {
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token as string,
      client_id: client.id,
    });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
