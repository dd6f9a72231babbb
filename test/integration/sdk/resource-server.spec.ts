import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import {
  AgentAuthClient,
  createVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  requireAgentAuth,
  type MinimalRequest,
  type TokenVerifier,
} from '@agentauth/sdk';
import { AgentAuthGuard, agentAuthOf } from '@agentauth/sdk/nestjs';
import { mcpTokenVerifier } from '@agentauth/sdk/mcp';
import { aTree, type Caller, claimsOf } from '../../factories/agents';
import { FakeClock } from '../../unit/sdk/fake-server';
import { forgeries } from '../auth/auth-helpers';
import type { TestApp } from '../../support/app';
import { aScope } from '../../factories/scopes';
import { aResourceServer, listen, listenNest, listeningApp } from './sdk-helpers';

// Custom scopes of the tree: a resource server accepts those, never the management API's (CONTRACT §8).
const SCOPE = 'files:read';
const OTHER_SCOPE = 'files:write';

describe('resource-server kit against a real AgentAuth server', () => {
  let t: TestApp & { base: string };
  let root: Caller;
  let agent: AgentAuthClient;
  let rs: { base: string; close(): Promise<void> };
  let resource: string;
  let metadataUrl: string;
  const verifiers: Record<string, TokenVerifier> = {};

  beforeAll(async () => {
    t = await listeningApp();
    root = await aTree(t);
    agent = new AgentAuthClient({ issuer: t.base, clientId: root.agent.id, clientSecret: root.apiKey });

    // One Express resource server: plain JWT checks on /plain, with introspection on /strict, MCP's
    // requireBearerAuth on /mcp. Its identifier is only known once it listens, so routes read it lazily.
    const app = express();
    app.get(/^\/\.well-known\/oauth-protected-resource(\/.*)?$/, (req, res) => {
      if (req.path !== protectedResourceMetadataPath(resource)) return res.status(404).end();
      protectedResourceMetadataHandler(
        protectedResourceMetadata({ resource, issuer: t.base, scopesSupported: [SCOPE] }),
      )(req, res);
    });
    const lazy =
      (make: () => express.RequestHandler): express.RequestHandler =>
      (req, res, next) =>
        make()(req, res, next);
    const answer: express.RequestHandler = (req, res) => {
      res.json({
        sub: (req as MinimalRequest).agentAuth?.subject ?? null,
        auth: (req as { auth?: unknown }).auth,
      });
    };
    app.get(
      '/api/plain',
      lazy(() =>
        requireAgentAuth(verifiers.plain, { requiredScopes: [SCOPE], resourceMetadataUrl: metadataUrl }),
      ),
      answer,
    );
    app.get(
      '/api/strict',
      lazy(() => requireAgentAuth(verifiers.strict, { resourceMetadataUrl: metadataUrl })),
      answer,
    );
    app.get(
      '/api/mcp',
      lazy(() =>
        requireBearerAuth({
          verifier: mcpTokenVerifier(verifiers.plain),
          requiredScopes: [SCOPE],
          resourceMetadataUrl: metadataUrl,
          expectedResource: new URL(resource),
        }),
      ),
      answer,
    );
    rs = await listen(app);
    resource = `${rs.base}/api`;
    metadataUrl = protectedResourceMetadataUrl(resource);
    for (const scope of [SCOPE, OTHER_SCOPE]) await aScope(t, root, scope);
    await aResourceServer(t, root, resource, [SCOPE, OTHER_SCOPE]);
    verifiers.plain = createVerifier({ issuer: t.base, audience: resource });
    verifiers.strict = createVerifier({
      issuer: t.base,
      audience: resource,
      introspection: { clientId: root.agent.id, clientSecret: root.apiKey, cacheTtlSeconds: 0 },
    });
  });
  afterAll(async () => {
    await rs.close();
    await t.close();
  });

  const call = (path: string, token?: string) =>
    fetch(`${rs.base}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  it('accepts a token for its audience and exposes the verified subject', async () => {
    const token = await agent.getToken({ scope: SCOPE, resource });
    const res = await call('/api/plain', token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: root.agent.id });
  });

  it('answers 401 with the RFC 9728 metadata URL, and serves that metadata', async () => {
    const res = await call('/api/plain');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);
    const metadata = await (await fetch(metadataUrl)).json();
    expect(metadata).toEqual({
      resource,
      authorization_servers: [t.base],
      bearer_methods_supported: ['header'],
      scopes_supported: [SCOPE],
      dpop_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    });
  });

  it("refuses a token for another audience (the management API's own)", async () => {
    const managementToken = await agent.getToken({ scope: 'agents:read' });
    expect(claimsOf(managementToken).aud).not.toBe(resource);
    const res = await call('/api/plain', managementToken);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      new RegExp(
        `^Bearer resource_metadata="${metadataUrl}", error="invalid_token", error_description="token aud`,
      ),
    );
  });

  it('refuses wrong issuer, expired, not yet valid, wrong typ, forged and none-signed tokens', async () => {
    const real = await agent.getToken({ scope: SCOPE, resource });
    const forged = await forgeries(t, real);
    // The forgeries keep the real token's audience, so only the broken property is refused.
    for (const name of [
      'wrongIssuer',
      'expired',
      'notYetValid',
      'typJwt',
      'algNone',
      'tamperedPayload',
      'unknownKid',
    ]) {
      const res = await call('/api/plain', forged[name]);
      expect({ name, status: res.status }).toEqual({ name, status: 401 });
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
  });

  it('answers 403 insufficient_scope with the scope needed', async () => {
    const token = await agent.getToken({ scope: OTHER_SCOPE, resource });
    const res = await call('/api/plain', token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain(`error="insufficient_scope"`);
    expect(res.headers.get('www-authenticate')).toContain(`scope="${SCOPE}"`);
  });

  it('with introspection on, refuses a revoked token at once (JWT checks alone still pass it)', async () => {
    const token = (await agent.clientCredentials({ scope: SCOPE, resource })).accessToken;
    expect((await call('/api/strict', token)).status).toBe(200);
    await agent.revoke(token);
    const res = await call('/api/strict', token);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'token is not active' });
    expect((await call('/api/plain', token)).status).toBe(200);
  });

  it('reuses an introspection answer for cacheTtlSeconds, then asks again', async () => {
    const clock = new FakeClock(Date.now());
    const verifier = createVerifier({
      issuer: t.base,
      audience: resource,
      clock,
      introspection: { clientId: root.agent.id, clientSecret: root.apiKey, cacheTtlSeconds: 5 },
    });
    const token = (await agent.clientCredentials({ scope: SCOPE, resource })).accessToken;
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: root.agent.id });
    await agent.revoke(token);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: root.agent.id });
    clock.advance(5000);
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'invalid_token', status: 401 });
  });

  it("works under the MCP SDK's requireBearerAuth", async () => {
    const token = await agent.getToken({ scope: SCOPE, resource });
    const ok = await call('/api/mcp', token);
    expect(ok.status).toBe(200);
    const { auth } = (await ok.json()) as { auth: Record<string, unknown> };
    expect(auth).toMatchObject({
      token,
      clientId: root.agent.id,
      scopes: [SCOPE],
      expiresAt: claimsOf(token).exp,
      resource: `${resource}`,
      extra: { sub: root.agent.id },
    });

    const anonymous = await call('/api/mcp');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain(`resource_metadata="${metadataUrl}"`);

    const wrongAudience = await call('/api/mcp', await agent.getToken({ scope: 'agents:read' }));
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers.get('www-authenticate')).toContain('error="invalid_token"');

    const noScope = await call('/api/mcp', await agent.getToken({ scope: OTHER_SCOPE, resource }));
    expect(noScope.status).toBe(403);
  });

  it('the NestJS guard lets a good token through and refuses others with the challenge', async () => {
    @Controller('things')
    @UseGuards(
      new AgentAuthGuard(createVerifier({ issuer: t.base, audience: resource }), {
        requiredScopes: [SCOPE],
        resourceMetadataUrl: metadataUrl,
      }),
    )
    class ThingsController {
      @Get()
      list(@Req() req: { agentAuth?: never }) {
        return { sub: agentAuthOf(req).subject };
      }
    }
    const moduleRef = await Test.createTestingModule({ controllers: [ThingsController] }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    const base = await listenNest(nest);
    try {
      const good = await fetch(`${base}/things`, {
        headers: { Authorization: `Bearer ${await agent.getToken({ scope: SCOPE, resource })}` },
      });
      expect(good.status).toBe(200);
      expect(await good.json()).toEqual({ sub: root.agent.id });

      const none = await fetch(`${base}/things`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}"`);

      const other = await fetch(`${base}/things`, {
        headers: { Authorization: `Bearer ${await agent.getToken({ scope: 'agents:read' })}` },
      });
      expect(other.status).toBe(401);
      expect(await other.json()).toMatchObject({ error: 'invalid_token' });

      const weak = await fetch(`${base}/things`, {
        headers: { Authorization: `Bearer ${await agent.getToken({ scope: OTHER_SCOPE, resource })}` },
      });
      expect(weak.status).toBe(403);
      expect(weak.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    } finally {
      await nest.close();
    }
  });
});
