import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { aChildCaller, aTree, type Caller, claimsOf } from '../../factories/agents';
import { aKeyPair, aPublicKeyCredential } from '../../factories/public-keys';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { listeningApp, type TestApp } from '../../support/app';
import { type McpTestServer, startMcpServer, whoamiOf } from '../../support/mcp-server';

// A scope of the tree that the MCP server accepts (CONTRACT §8: resource servers take the tree's own scopes).
const SCOPE = 'mcp:tools';

/**
 * Issue #21, "done when" (1) and (2): the official MCP TypeScript SDK, unmodified, against a real MCP server
 * protected by AgentAuth tokens — the SDK client discovers AgentAuth through the server's RFC 9728 metadata
 * and RFC 8414 discovery, gets a token for the server's resource identifier and calls a tool.
 */
describe('MCP SDK machine-to-machine clients against AgentAuth', () => {
  let t: TestApp & { base: string };
  let root: Caller;
  let mcp: McpTestServer;

  beforeAll(async () => {
    t = await listeningApp();
    root = await aTree(t);
    await aScope(t, root, SCOPE, 'Call the test MCP server tools');
    mcp = await startMcpServer({ issuer: t.base, scopesSupported: [SCOPE], requiredScopes: [SCOPE] });
    await aResourceServer(t, root, { identifier: mcp.resource, name: 'test MCP server', scopes: [SCOPE] });
  });
  afterAll(async () => {
    await mcp?.close();
    await t?.close();
  });

  async function whoamiWith(authProvider: OAuthClientProvider) {
    const client = new Client({ name: 'agentauth-mcp-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name)).toContain('whoami');
      return whoamiOf(await client.callTool({ name: 'whoami', arguments: {} }));
    } finally {
      await client.close();
    }
  }

  it('(1) ClientCredentialsProvider with expectedIssuer: a root agent id + API key calls a tool', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: root.agent.id,
      clientSecret: root.apiKey,
      expectedIssuer: t.base,
    });
    const who = await whoamiWith(provider);

    expect(who).toMatchObject({ sub: root.agent.id, client_id: root.agent.id, act: null, aud: mcp.resource });
    expect(who.scopes).toEqual([SCOPE]);
    // The token the SDK obtained: for the MCP server's resource identifier, issued by AgentAuth.
    const token = provider.tokens()?.access_token;
    expect(token).toBeDefined();
    expect(claimsOf(token!)).toMatchObject({ iss: t.base, aud: mcp.resource, sub: root.agent.id });
    expect(mcp.seen.at(-1)?.token).toBe(token);
  });

  it('(1) the same provider pointed at another issuer refuses to authenticate there', async () => {
    const provider = new ClientCredentialsProvider({
      clientId: root.agent.id,
      clientSecret: root.apiKey,
      expectedIssuer: 'http://127.0.0.1:1',
    });
    await expect(whoamiWith(provider)).rejects.toThrow(/bound to authorization server/);
    expect(provider.tokens()).toBeUndefined();
  });

  it('(2) PrivateKeyJwtProvider: an agent with a public-key credential (no secret) calls a tool', async () => {
    const child = await aChildCaller(t, root, { allowed_scopes: [SCOPE] });
    const pair = aKeyPair('ES256');
    await aPublicKeyCredential(t, root, child.agent, pair.publicJwk, { scopes: [SCOPE] });
    const provider = new PrivateKeyJwtProvider({
      clientId: child.agent.id,
      privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      algorithm: 'ES256',
      expectedIssuer: t.base,
    });
    const who = await whoamiWith(provider);

    expect(who).toMatchObject({
      sub: child.agent.id,
      client_id: child.agent.id,
      act: null,
      aud: mcp.resource,
    });
    expect(who.scopes).toEqual([SCOPE]);
    expect(claimsOf(provider.tokens()!.access_token)).toMatchObject({ iss: t.base, aud: mcp.resource });
  });

  it('a token for another audience (the management API) is refused by the MCP server with its metadata URL', async () => {
    const res = await fetch(mcp.url, {
      method: 'POST',
      headers: {
        Authorization: root.auth.Authorization,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${mcp.metadataUrl}"`);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
