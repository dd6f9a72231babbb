import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { createVerifier } from '@agentauth/sdk';
import {
  mcpTokenVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
} from '@agentauth/sdk/mcp';

/** What the `whoami` tool answers: the verified token as the MCP server sees it. */
export interface WhoAmI {
  sub: string;
  act: unknown;
  client_id: string;
  aud: string | string[] | undefined;
  scopes: string[];
  delegation_id: string | null;
}

export interface McpTestServer {
  /** The MCP endpoint (Streamable HTTP), `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** Its RFC 8707 resource identifier (= `url`): register it in AgentAuth as a resource server (§8). */
  resource: string;
  /** Its RFC 9728 protected-resource metadata URL (path form). */
  metadataUrl: string;
  /** Every token the server accepted, in order. */
  seen: AuthInfo[];
  close(): Promise<void>;
}

export interface McpTestServerOptions {
  /** AgentAuth's issuer (its public base URL). */
  issuer: string;
  /** The scopes its protected-resource metadata advertises (the SDK client asks for them by default). */
  scopesSupported: string[];
  /** Scopes every token must carry (403 insufficient_scope otherwise). */
  requiredScopes?: string[];
  /**
   * Also ask AgentAuth whether each token is still active (RFC 7662, no cache), as the resource server's own
   * agent (it needs `tokens:introspect`): a revoked token is refused at once, not only at its `exp`.
   */
  introspectAs?: { clientId: string; clientSecret: string };
}

/**
 * A real MCP server for the interoperability tests (issue #21), written the way an MCP server author would:
 * the official SDK's `McpServer` over `StreamableHTTPServerTransport` (stateless, one server per request) on
 * the SDK's Express app, protected by the SDK's `requireBearerAuth` with `expectedResource` and an
 * `OAuthTokenVerifier` from AgentAuth's resource-server kit (`@agentauth/sdk/mcp`: signature through the
 * issuer's JWKS, `iss`, `aud` = this server's resource identifier, lifetime; optionally introspection). It publishes RFC 9728 metadata
 * naming AgentAuth as its authorization server, and every 401 points at it.
 *
 * One tool, `whoami`, answers the verified token's `sub`, `act`, `client_id`, `aud` and scopes.
 */
export async function startMcpServer(options: McpTestServerOptions): Promise<McpTestServer> {
  // The identifier depends on the port, so listen first and route once it is known.
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/mcp`;
  const resource = url;
  const metadataUrl = protectedResourceMetadataUrl(resource);
  const seen: AuthInfo[] = [];

  const verifier = createVerifier({
    issuer: options.issuer,
    audience: resource,
    ...(options.introspectAs ? { introspection: { ...options.introspectAs, cacheTtlSeconds: 0 } } : {}),
  });
  const app = createMcpExpressApp({ host: '127.0.0.1' });
  const metadata = protectedResourceMetadataHandler(
    protectedResourceMetadata({
      resource,
      issuer: options.issuer,
      scopesSupported: options.scopesSupported,
      resourceName: 'AgentAuth test MCP server',
    }),
  );
  app.get(protectedResourceMetadataPath(resource), (req, res) => metadata(req, res));

  const bearer = requireBearerAuth({
    verifier: mcpTokenVerifier(verifier),
    requiredScopes: options.requiredScopes,
    resourceMetadataUrl: metadataUrl,
    expectedResource: new URL(resource),
  });
  const record: RequestHandler = (req, _res, next) => {
    if (req.auth) seen.push(req.auth);
    next();
  };

  app.post('/mcp', bearer, record, async (req, res) => {
    const mcp = newMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    try {
      await mcp.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      if (!res.headersSent) {
        res.status(500).json({
          jsonrpc: '2.0',
          error: { code: -32603, message: `internal error: ${String(error)}` },
          id: null,
        });
      }
    }
  });
  // Stateless server: no standalone SSE stream, no session to delete.
  const notAllowed: RequestHandler = (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed.' },
        id: null,
      });
  };
  app.get('/mcp', bearer, notAllowed);
  app.delete('/mcp', bearer, notAllowed);

  server.on('request', app);
  return {
    url,
    resource,
    metadataUrl,
    seen,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

function newMcpServer(): McpServer {
  const mcp = new McpServer({ name: 'agentauth-test-mcp', version: '1.0.0' });
  mcp.registerTool(
    'whoami',
    { description: "The verified access token's subject, actor, client, audience and scopes." },
    (extra) => {
      const auth = extra.authInfo;
      const claims = (auth?.extra?.claims ?? {}) as Record<string, unknown>;
      const who: WhoAmI = {
        sub: typeof auth?.extra?.sub === 'string' ? auth.extra.sub : '',
        act: claims.act ?? null,
        client_id: auth?.clientId ?? '',
        aud: claims.aud as string | string[] | undefined,
        scopes: auth?.scopes ?? [],
        delegation_id: (claims.delegation_id as string | undefined) ?? null,
      };
      return { content: [{ type: 'text', text: JSON.stringify(who) }] };
    },
  );
  return mcp;
}

/** The `whoami` answer out of a `callTool` result. */
export function whoamiOf(result: unknown): WhoAmI {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  const text = content.find((c) => c.type === 'text')?.text;
  if (!text) throw new Error(`whoami answered no text: ${JSON.stringify(result)}`);
  return JSON.parse(text) as WhoAmI;
}
