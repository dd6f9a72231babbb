import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import express from 'express';
import { AgentAuthGuard, agentAuthOf } from '@agentauth/sdk/nestjs';
import {
  AgentAuthClient,
  createVerifier,
  type MinimalRequest,
  OAuthError,
  requireAgentAuth,
} from '@agentauth/sdk';
import { aTree, type Caller, claimsOf } from '../../factories/agents';
import { aKeyPair, dpopProof, type TestKeyPair } from '../../factories/public-keys';
import { aScope } from '../../factories/scopes';
import type { TestApp } from '../../support/app';
import { aResourceServer, listen, listenNest, listeningApp } from './sdk-helpers';

const SCOPE = 'files:read';

/**
 * DPoP (RFC 9449, CONTRACT §10) end to end through the SDK: an AgentAuthClient with a DPoP key gets bound
 * tokens (proofs at the token endpoint), sends them as `DPoP` with a proof from `fetch`, and the SDK's Express
 * middleware accepts them only with a valid proof of the bound key; the management API too.
 */
describe('DPoP through the SDK against a real server', () => {
  let t: TestApp & { base: string };
  let root: Caller;
  let pair: TestKeyPair;
  let client: AgentAuthClient;
  let rs: { base: string; close(): Promise<void> };
  let resource: string;
  let protect: express.RequestHandler | undefined;

  beforeAll(async () => {
    t = await listeningApp();
    root = await aTree(t);
    await aScope(t, root, SCOPE);
    pair = aKeyPair('ES256');
    client = new AgentAuthClient({
      issuer: t.base,
      clientId: root.agent.id,
      clientSecret: root.apiKey,
      dpop: { keyPair: { privateKey: pair.privateKey, publicKey: pair.publicKey } },
    });

    const app = express();
    const answer: express.RequestHandler = (req, res) => {
      const verified = (req as MinimalRequest).agentAuth!;
      res.json({ sub: verified.subject, jkt: verified.claims.cnf?.jkt ?? null });
    };
    app.get('/api/files', (req, res, next) => protect!(req, res, next), answer);
    app.post('/api/files', (req, res, next) => protect!(req, res, next), answer);
    rs = await listen(app);
    resource = `${rs.base}/api`;
    await aResourceServer(t, root, resource, [SCOPE], { dpop_required: true });
    protect = requireAgentAuth(createVerifier({ issuer: t.base, audience: resource }), {
      requiredScopes: [SCOPE],
      resourceMetadataUrl: `${rs.base}/.well-known/oauth-protected-resource/api`,
    }) as express.RequestHandler;
  });
  afterAll(async () => {
    await rs?.close();
    await t?.close();
  });

  const files = () => `${rs.base}/api/files`;
  const boundToken = () => client.getTokenSet({ scope: SCOPE, resource });

  it('gets a token bound to its key and calls the resource with fetch: DPoP scheme, a proof per request', async () => {
    const tokenSet = await boundToken();
    expect(tokenSet.tokenType).toBe('DPoP');
    const jkt = await client.dpopThumbprint();
    expect(claimsOf(tokenSet.accessToken)).toMatchObject({ aud: resource, cnf: { jkt } });

    const get = await client.fetch(`${files()}?page=2`, {}, { scope: SCOPE, resource });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ sub: root.agent.id, jkt });
    // A second call needs a second proof (a proof is single use): fetch makes a new one.
    const post = await client.fetch(files(), { method: 'POST', body: '{}' }, { scope: SCOPE, resource });
    expect(post.status).toBe(200);
  });

  it('refuses the bound token without a proof, as Bearer, or with a wrong, stale or replayed proof', async () => {
    const { accessToken } = await boundToken();
    const call = (headers: Record<string, string>, method = 'GET') =>
      fetch(files(), { method, headers: { Authorization: `DPoP ${accessToken}`, ...headers } });
    const refusal = async (res: Response) => ({
      status: res.status,
      challenge: res.headers.get('www-authenticate') ?? '',
      body: (await res.json()) as { error: string; error_description: string },
    });
    const proof = (options: Partial<Parameters<typeof dpopProof>[1]> = {}, key = pair) =>
      dpopProof(key, { htm: 'GET', htu: files(), accessToken, ...options });

    const valid = await proof();
    expect((await call({ DPoP: valid })).status).toBe(200);

    const replayed = await refusal(await call({ DPoP: valid }));
    expect(replayed).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } });
    expect(replayed.body.error_description).toMatch(/replayed/);
    expect(replayed.challenge).toMatch(/^DPoP resource_metadata=".+", error="invalid_dpop_proof", .*algs="/);

    const none = await refusal(await call({}));
    expect(none).toMatchObject({ status: 401, body: { error: 'invalid_dpop_proof' } });
    expect(none.body.error_description).toMatch(/DPoP proof required/);

    const asBearer = await refusal(
      await fetch(files(), { headers: { Authorization: `Bearer ${accessToken}`, DPoP: await proof() } }),
    );
    expect(asBearer).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(asBearer.challenge).toMatch(/^DPoP /);

    const cases: [string, Promise<string>, RegExp][] = [
      ['another key', proof({}, aKeyPair('ES256')), /not the one the token is bound to/],
      ['another method', proof({ htm: 'POST' }), /htm/],
      ['another URL', proof({ htu: `${rs.base}/api/other` }), /htu/],
      ['no ath', proof({ accessToken: undefined }), /ath/],
      ['a stale iat', proof({ claims: { iat: Math.floor(Date.now() / 1000) - 600 } }), /iat|signature/],
      ['typ JWT', proof({ header: { typ: 'JWT' } }), /typ/],
      ['a private jwk', proof({ header: { jwk: pair.privateJwk } }), /not a public key/],
    ];
    for (const [label, made, reason] of cases) {
      const res = await refusal(await call({ DPoP: await made }));
      expect({ label, status: res.status, error: res.body.error }).toEqual({
        label,
        status: 401,
        error: 'invalid_dpop_proof',
      });
      expect(res.body.error_description).toMatch(reason);
    }
  });

  it('the NestJS guard accepts the bound token with the SDK proof and refuses it without one', async () => {
    @Controller('things')
    @UseGuards(
      new AgentAuthGuard(createVerifier({ issuer: t.base, audience: resource }), { requiredScopes: [SCOPE] }),
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
      const good = await client.fetch(`${base}/things`, {}, { scope: SCOPE, resource });
      expect(good.status).toBe(200);
      expect(await good.json()).toEqual({ sub: root.agent.id });
      const { accessToken } = await boundToken();
      const bare = await fetch(`${base}/things`, { headers: { Authorization: `DPoP ${accessToken}` } });
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof"/);
      const elsewhere = await fetch(`${base}/things`, {
        headers: {
          Authorization: `DPoP ${accessToken}`,
          DPoP: await dpopProof(pair, { htm: 'GET', htu: files(), accessToken }),
        },
      });
      expect(elsewhere.status).toBe(401);
      expect(await elsewhere.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    } finally {
      await nest.close();
    }
  });

  it('calls the management API (GET /api/v1/agents/{id}) with a DPoP-bound token through fetch', async () => {
    const res = await client.fetch(`${t.base}/api/v1/agents/${root.agent.id}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }).id).toBe(root.agent.id);
    const managementToken = await client.getTokenSet();
    expect(managementToken.tokenType).toBe('DPoP');
    const asBearer = await fetch(`${t.base}/api/v1/agents/${root.agent.id}`, {
      headers: { Authorization: `Bearer ${managementToken.accessToken}` },
    });
    expect(asBearer.status).toBe(401);
  });

  it('refreshes a bound refresh token with a proof of the same key; a client without DPoP gets nothing for the server', async () => {
    const withRefresh = await client.clientCredentials({ scope: `${SCOPE} offline_access`, resource });
    expect(withRefresh.refreshToken).toEqual(expect.any(String));
    const refreshed = await client.refresh(withRefresh.refreshToken!);
    expect(refreshed.tokenType).toBe('DPoP');
    expect(claimsOf(refreshed.accessToken).cnf).toEqual({ jkt: await client.dpopThumbprint() });

    const plain = new AgentAuthClient({ issuer: t.base, clientId: root.agent.id, clientSecret: root.apiKey });
    const error = (await plain.getToken({ scope: SCOPE, resource }).catch((e: unknown) => e)) as OAuthError;
    expect(error).toBeInstanceOf(OAuthError);
    expect(error.error).toBe('invalid_dpop_proof');
  });
});
