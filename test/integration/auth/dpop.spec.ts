import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import request from 'supertest';
import { AgentsService } from '@agentauth/agents';
import { listeningApp, type TestApp } from '../../support/app';
import { runOpenIdClient } from '../../support/openid-client';
import { redisKeyPrefix } from '../../support/test-env';
import {
  aKey,
  anAgent,
  API,
  aTree,
  basicAuth,
  type Caller,
  claimsOf,
  type KeyHolder,
} from '../../factories/agents';
import { auditEventsAbout } from '../../factories/db';
import { aKeyPair, dpopProof, type TestKeyPair } from '../../factories/public-keys';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';

const thumbprint = (pair: TestKeyPair) => calculateJwkThumbprint(pair.publicJwk as unknown as JWK, 'sha256');
const ALGS = 'RS256 PS256 ES256 EdDSA Ed25519';

describe('DPoP sender-constrained tokens (RFC 9449, CONTRACT §10)', () => {
  let t: TestApp;
  let issuer: string;
  let tokenUrl: string;
  beforeAll(async () => {
    t = await listeningApp({ REDIS_KEY_PREFIX: `${redisKeyPrefix()}${randomUUID()}:` });
    issuer = t.config.publicBaseUrl;
    tokenUrl = `${issuer}${API}/auth/token`;
  });
  afterAll(async () => {
    await t.close();
  });

  function tokenRequest(holder: KeyHolder, params: Record<string, string>, proof?: string): request.Test {
    const req = request(t.http)
      .post(`${API}/auth/token`)
      .set(basicAuth(holder.agent.id, holder.apiKey))
      .type('form');
    if (proof !== undefined) req.set('DPoP', proof);
    return req.send({ grant_type: 'client_credentials', ...params });
  }

  async function boundToken(holder: KeyHolder, pair: TestKeyPair, params: Record<string, string> = {}) {
    const res = await tokenRequest(holder, params, await dpopProof(pair, { htu: tokenUrl })).expect(200);
    return res.body as { access_token: string; token_type: string; refresh_token?: string };
  }

  function expectInvalidProof(res: request.Response, description = 'Invalid DPoP proof'): void {
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { error: 'invalid_dpop_proof', error_description: description },
    });
  }

  describe('openid-client 6 (unmodified, through discovery only)', () => {
    it('obtains and refreshes a DPoP-bound token, then calls GET /api/v1/agents/{id} with the DPoP scheme', async () => {
      const pair = aKeyPair('ES256');
      const boot = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: `dpop-${randomUUID().slice(0, 8)}`, jwk: pair.publicJwk })
        .expect(201);
      const rootId = boot.body.agent.id as string;
      const out = await runOpenIdClient({
        mode: 'dpop',
        issuer,
        apiBase: `${issuer}${API}`,
        clientId: rootId,
        alg: 'ES256',
        privateKeyPkcs8: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
        scope: 'agents:read',
      });
      expect(out.error).toBeUndefined();
      expect(out.metadata.dpop_signing_alg_values_supported).toContain('ES256');
      const jkt = await calculateJwkThumbprint(out.dpopJwk as unknown as JWK, 'sha256');
      expect(out.tokens.token_type).toBe('dpop');
      expect(claimsOf(out.tokens.access_token).cnf).toEqual({ jkt });
      expect(out.refreshed.token_type).toBe('dpop');
      expect(out.refreshed.refresh_token).not.toBe(out.tokens.refresh_token);
      expect(claimsOf(out.refreshed.access_token).cnf).toEqual({ jkt });
      expect(out.resource).toEqual({ status: 200, body: expect.objectContaining({ id: rootId }) });
      expect(out.introspection).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });
      const events = await auditEventsAbout([claimsOf(out.refreshed.access_token).jti]);
      expect(events).toEqual([
        expect.objectContaining({
          event_type: 'token.issued',
          details: expect.objectContaining({
            grant_type: 'refresh_token',
            dpop_bound: true,
            client_auth_method: 'private_key_jwt',
          }),
        }),
      ]);
    });
  });

  describe('the token endpoint', () => {
    let root: Caller;
    let pair: TestKeyPair;
    beforeAll(async () => {
      root = await aTree(t);
      pair = aKeyPair('ES256');
    });

    it('binds the token to the proof key: cnf.jkt, token_type DPoP; introspection shows both', async () => {
      const body = await boundToken(root, pair, { scope: 'agents:read' });
      expect(body.token_type).toBe('DPoP');
      expect(claimsOf(body.access_token).cnf).toEqual({ jkt: await thumbprint(pair) });
      const introspection = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .set(basicAuth(root.agent.id, root.apiKey))
        .type('form')
        .send({ token: body.access_token })
        .expect(200);
      expect(introspection.body).toMatchObject({
        active: true,
        token_type: 'DPoP',
        cnf: { jkt: await thumbprint(pair) },
      });
      // without a proof: a Bearer token, no cnf
      const plain = await tokenRequest(root, { scope: 'agents:read' }).expect(200);
      expect(plain.body.token_type).toBe('Bearer');
      expect(claimsOf(plain.body.access_token).cnf).toBeUndefined();
    });

    it.each([
      ['wrong htm', (p: TestKeyPair, url: string) => dpopProof(p, { htu: url, htm: 'GET' })],
      [
        'wrong htu (another path)',
        (p: TestKeyPair, url: string) => dpopProof(p, { htu: `${url}/introspect` }),
      ],
      [
        'wrong htu (another host)',
        (p: TestKeyPair, url: string) => dpopProof(p, { htu: url.replace('127.0.0.1', 'evil.example') }),
      ],
      [
        'stale iat (−120 s)',
        (p: TestKeyPair, url: string) =>
          dpopProof(p, { htu: url, claims: { iat: Math.floor(Date.now() / 1000) - 120 } }),
      ],
      [
        'iat in the future (+120 s)',
        (p: TestKeyPair, url: string) =>
          dpopProof(p, { htu: url, claims: { iat: Math.floor(Date.now() / 1000) + 120 } }),
      ],
      ['no jti', (p: TestKeyPair, url: string) => dpopProof(p, { htu: url, claims: { jti: undefined } })],
      ['typ JWT', (p: TestKeyPair, url: string) => dpopProof(p, { htu: url, header: { typ: 'JWT' } })],
      [
        'a private key in the header',
        (p: TestKeyPair, url: string) => dpopProof(p, { htu: url, header: { jwk: p.privateJwk } }),
      ],
      [
        'a jwk that did not sign it',
        (p: TestKeyPair, url: string) =>
          dpopProof(p, { htu: url, header: { jwk: aKeyPair('ES256').publicJwk } }),
      ],
      [
        'HS256',
        (p: TestKeyPair, url: string) =>
          dpopProof(p, { htu: url, alg: 'HS256', key: new TextEncoder().encode('s'.repeat(32)) }),
      ],
      ['not a JWT', async () => 'not-a-proof'],
    ])('refuses a proof with %s: 400 invalid_dpop_proof', async (_what, make) => {
      expectInvalidProof(await tokenRequest(root, {}, await make(pair, tokenUrl)));
    });

    it('refuses a replayed proof (same jti)', async () => {
      const proof = await dpopProof(pair, { htu: tokenUrl });
      await tokenRequest(root, {}, proof).expect(200);
      expectInvalidProof(await tokenRequest(root, {}, proof));
    });

    it('compares htu without its query and fragment', async () => {
      await tokenRequest(root, {}, await dpopProof(pair, { htu: `${tokenUrl}?x=1#f` })).expect(200);
    });
  });

  describe('bound refresh families', () => {
    it('refreshing needs a proof by the same key', async () => {
      const root = await aTree(t);
      const pair = aKeyPair('EdDSA');
      const first = await boundToken(root, pair, { scope: 'agents:read offline_access' });
      const introspected = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .set(basicAuth(root.agent.id, root.apiKey))
        .type('form')
        .send({ token: first.refresh_token })
        .expect(200);
      expect(introspected.body).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        cnf: { jkt: await thumbprint(pair) },
      });
      const refresh = (refreshToken: string, proof?: string) =>
        tokenRequest(root, { grant_type: 'refresh_token', refresh_token: refreshToken }, proof);
      expectInvalidProof(
        await refresh(first.refresh_token as string),
        'DPoP proof required: the refresh token is DPoP-bound',
      );
      expectInvalidProof(
        await refresh(first.refresh_token as string, await dpopProof(aKeyPair('EdDSA'), { htu: tokenUrl })),
        'The DPoP proof is not by the key the refresh token is bound to',
      );
      const ok = await refresh(
        first.refresh_token as string,
        await dpopProof(pair, { htu: tokenUrl }),
      ).expect(200);
      expect(ok.body.token_type).toBe('DPoP');
      expect(claimsOf(ok.body.access_token).cnf).toEqual({ jkt: await thumbprint(pair) });
    });

    it('a refresh with a proof binds an unbound family to that key from then on', async () => {
      const root = await aTree(t);
      const unbound = await tokenRequest(root, { scope: 'agents:read offline_access' }).expect(200);
      expect(unbound.body.token_type).toBe('Bearer');
      const refresh = (refreshToken: string, proof?: string) =>
        tokenRequest(root, { grant_type: 'refresh_token', refresh_token: refreshToken }, proof);
      const pair = aKeyPair('ES256');
      const bound = await refresh(
        unbound.body.refresh_token,
        await dpopProof(pair, { htu: tokenUrl }),
      ).expect(200);
      expect(bound.body.token_type).toBe('DPoP');
      const introspected = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .set(basicAuth(root.agent.id, root.apiKey))
        .type('form')
        .send({ token: bound.body.refresh_token })
        .expect(200);
      expect(introspected.body).toMatchObject({ active: true, cnf: { jkt: await thumbprint(pair) } });
      expectInvalidProof(
        await refresh(bound.body.refresh_token, await dpopProof(aKeyPair('ES256'), { htu: tokenUrl })),
        'The DPoP proof is not by the key the refresh token is bound to',
      );
      expectInvalidProof(
        await refresh(bound.body.refresh_token),
        'DPoP proof required: the refresh token is DPoP-bound',
      );
      await refresh(bound.body.refresh_token, await dpopProof(pair, { htu: tokenUrl })).expect(200);
    });
  });

  describe('the management API', () => {
    let root: Caller;
    let pair: TestKeyPair;
    let token: string;
    const url = () => `${issuer}${API}/agents/${root.agent.id}`;
    beforeAll(async () => {
      root = await aTree(t);
      pair = aKeyPair('RS256');
      token = (await boundToken(root, pair, { scope: 'agents:read' })).access_token;
    });

    const get = (authorization: string, proof?: string, path = `${API}/agents/${root.agent.id}`) => {
      const req = request(t.http).get(path).set('Authorization', authorization);
      if (proof !== undefined) req.set('DPoP', proof);
      return req;
    };

    function expectDpopChallenge(res: request.Response, error: 'invalid_token' | 'invalid_dpop_proof'): void {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        `Bearer realm="agentauth", resource_metadata="${issuer}/.well-known/oauth-protected-resource${API}", DPoP error="${error}", algs="${ALGS}"`,
      );
    }

    it('accepts the DPoP scheme with a proof for this request (htu without the query)', async () => {
      const res = await get(
        `DPoP ${token}`,
        await dpopProof(pair, { htm: 'GET', htu: url(), accessToken: token }),
      ).expect(200);
      expect(res.body.id).toBe(root.agent.id);
      await get(
        `DPoP ${token}`,
        await dpopProof(pair, { htm: 'GET', htu: `${issuer}${API}/agents`, accessToken: token }),
        `${API}/agents?limit=1`,
      ).expect(200);
    });

    it('refuses a bound token sent as Bearer', async () => {
      expectDpopChallenge(
        await get(`Bearer ${token}`, await dpopProof(pair, { htm: 'GET', htu: url(), accessToken: token })),
        'invalid_token',
      );
    });

    it('refuses the DPoP scheme without a proof, with a wrong ath, htm or htu, by another key, or replayed', async () => {
      expectDpopChallenge(await get(`DPoP ${token}`), 'invalid_dpop_proof');
      expectDpopChallenge(
        await get(
          `DPoP ${token}`,
          await dpopProof(pair, { htm: 'GET', htu: url(), accessToken: `${token}x` }),
        ),
        'invalid_dpop_proof',
      );
      expectDpopChallenge(
        await get(`DPoP ${token}`, await dpopProof(pair, { htm: 'GET', htu: url() })),
        'invalid_dpop_proof',
      );
      expectDpopChallenge(
        await get(`DPoP ${token}`, await dpopProof(pair, { htm: 'POST', htu: url(), accessToken: token })),
        'invalid_dpop_proof',
      );
      expectDpopChallenge(
        await get(
          `DPoP ${token}`,
          await dpopProof(pair, { htm: 'GET', htu: `${issuer}${API}/agents`, accessToken: token }),
        ),
        'invalid_dpop_proof',
      );
      expectDpopChallenge(
        await get(
          `DPoP ${token}`,
          await dpopProof(aKeyPair('RS256'), { htm: 'GET', htu: url(), accessToken: token }),
        ),
        'invalid_dpop_proof',
      );
      const proof = await dpopProof(pair, { htm: 'GET', htu: url(), accessToken: token });
      await get(`DPoP ${token}`, proof).expect(200);
      expectDpopChallenge(await get(`DPoP ${token}`, proof), 'invalid_dpop_proof');
    });

    it('refuses an unbound token sent with the DPoP scheme', async () => {
      expectDpopChallenge(
        await get(
          `DPoP ${root.accessToken}`,
          await dpopProof(pair, { htm: 'GET', htu: url(), accessToken: root.accessToken }),
        ),
        'invalid_token',
      );
    });

    it('introspection never takes a bound token as a Bearer caller credential', async () => {
      const res = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .set('Authorization', `Bearer ${token}`)
        .type('form')
        .send({ token });
      expect(res.status).toBe(401);
    });
  });

  describe('require_dpop (governed, inherited)', () => {
    it('an agent that requires DPoP, and its child, get tokens only with a proof', async () => {
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: ['agents:read', 'agents:write'] });
      const child = await anAgent(t, root, { parent_agent_id: agent.id, allowed_scopes: ['agents:read'] });
      const agentKey = await aKey(t, root, agent);
      const childKey = await aKey(t, root, child);
      // the agent cannot set its own (governed)
      await request(t.http)
        .patch(`${API}/agents/${agent.id}`)
        .set(agentKey.auth)
        .send({ require_dpop: true })
        .expect(403);
      const patched = await request(t.http)
        .patch(`${API}/agents/${agent.id}`)
        .set(root.auth)
        .send({ require_dpop: true })
        .expect(200);
      expect(patched.body.require_dpop).toBe(true);
      const pair = aKeyPair('ES256');
      for (const holder of [agentKey, childKey]) {
        expectInvalidProof(await tokenRequest(holder, {}), 'DPoP proof required');
        const ok = await tokenRequest(holder, {}, await dpopProof(pair, { htu: tokenUrl })).expect(200);
        expect(ok.body.token_type).toBe('DPoP');
      }
      // the root itself is not affected
      await tokenRequest(root, {}).expect(200);
    });

    it('a cached client authentication does not outlive a require_dpop change on an ancestor, either way', async () => {
      const root = await aTree(t);
      const parent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
      const child = await anAgent(t, root, { parent_agent_id: parent.id, allowed_scopes: ['agents:read'] });
      const childKey = await aKey(t, root, child);
      // Twice: the second answer comes from the verified-key cache (requires_dpop: false, cached).
      for (let i = 0; i < 2; i++)
        expect((await tokenRequest(childKey, {}).expect(200)).body.token_type).toBe('Bearer');
      const setRequirement = (value: boolean) =>
        request(t.http)
          .patch(`${API}/agents/${parent.id}`)
          .set(root.auth)
          .send({ require_dpop: value })
          .expect(200);
      await setRequirement(true);
      expectInvalidProof(await tokenRequest(childKey, {}), 'DPoP proof required');
      expectInvalidProof(await tokenRequest(childKey, {}), 'DPoP proof required');
      await setRequirement(false);
      expect((await tokenRequest(childKey, {}).expect(200)).body.token_type).toBe('Bearer');
    });

    it('client_credentials reads no chain for the requirement: the client authentication answered it', async () => {
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
      const holder = await aKey(t, root, agent);
      const agents = t.app.get(AgentsService);
      const spy = jest.spyOn(agents, 'anyRequiresDpop');
      try {
        for (let i = 0; i < 3; i++) await tokenRequest(holder, {}).expect(200);
        expect(spy).not.toHaveBeenCalled();
      } finally {
        spy.mockRestore();
      }
    });

    it('a root bootstrapped with require_dpop gets tokens only with a proof', async () => {
      const boot = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: `strict-${randomUUID().slice(0, 8)}`, require_dpop: true })
        .expect(201);
      expect(boot.body.agent.require_dpop).toBe(true);
      const holder = { agent: boot.body.agent, apiKey: boot.body.credential.api_key as string };
      expectInvalidProof(await tokenRequest(holder, {}), 'DPoP proof required');
    });
  });

  describe('dpop_required on a resource server', () => {
    it('tokens for that server only with a proof (bound to it); other audiences are unaffected; PATCH turns it off', async () => {
      const root = await aTree(t);
      await aScope(t, root, 'files:read');
      const worker = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['files:read'] }));
      const server = await aResourceServer(t, root, { scopes: ['files:read'], dpop_required: true });
      expect(server).toMatchObject({ dpop_required: true });
      const open = await aResourceServer(t, root, { scopes: ['files:read'] });
      expect(open).toMatchObject({ dpop_required: false });

      expectInvalidProof(await tokenRequest(worker, { resource: server.identifier }), 'DPoP proof required');
      const pair = aKeyPair('ES256');
      const bound = await boundToken(worker, pair, { resource: server.identifier });
      expect(bound.token_type).toBe('DPoP');
      expect(claimsOf(bound.access_token)).toMatchObject({
        aud: server.identifier,
        cnf: { jkt: await thumbprint(pair) },
      });
      // another server of the tree, and the management API, still take a Bearer request
      const plain = await tokenRequest(worker, { resource: open.identifier }).expect(200);
      expect(plain.body.token_type).toBe('Bearer');
      await tokenRequest(worker, {}).expect(200);

      const off = await request(t.http)
        .patch(`${API}/resource-servers/${server.id}`)
        .set(root.auth)
        .send({ dpop_required: false })
        .expect(200);
      expect(off.body.dpop_required).toBe(false);
      await tokenRequest(worker, { resource: server.identifier }).expect(200);
      await request(t.http)
        .patch(`${API}/resource-servers/${server.id}`)
        .set(root.auth)
        .send({ dpop_required: 'yes' })
        .expect(400);
    });
  });

  describe('token exchange', () => {
    it('a bound subject token is exchanged only with a proof by its key; the new token is bound to it', async () => {
      const root = await aTree(t);
      const pair = aKeyPair('ES256');
      const subject = (await boundToken(root, pair, { scope: 'agents:read' })).access_token;
      const exchange = (proof?: string) =>
        tokenRequest(
          root,
          {
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: subject,
            subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          },
          proof,
        );
      expectInvalidProof(await exchange(), 'DPoP proof required: the subject token is DPoP-bound');
      expectInvalidProof(
        await exchange(await dpopProof(aKeyPair('ES256'), { htu: tokenUrl })),
        'The DPoP proof is not by the key the subject token is bound to',
      );
      const ok = await exchange(await dpopProof(pair, { htu: tokenUrl })).expect(200);
      expect(ok.body.token_type).toBe('DPoP');
      expect(claimsOf(ok.body.access_token).cnf).toEqual({ jkt: await thumbprint(pair) });
    });

    it('a bound actor token needs a proof by its key', async () => {
      const root = await aTree(t);
      const actorPair = aKeyPair('ES256');
      const subject = (await tokenRequest(root, { scope: 'agents:read' }).expect(200)).body
        .access_token as string;
      const actor = (await boundToken(root, actorPair, { scope: 'agents:read' })).access_token;
      const exchange = (proof?: string) =>
        tokenRequest(
          root,
          {
            grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
            subject_token: subject,
            subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            actor_token: actor,
            actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          },
          proof,
        );
      expectInvalidProof(await exchange(), 'DPoP proof required: the actor token is DPoP-bound');
      expectInvalidProof(
        await exchange(await dpopProof(aKeyPair('ES256'), { htu: tokenUrl })),
        'The DPoP proof is not by the key the actor token is bound to',
      );
      const ok = await exchange(await dpopProof(actorPair, { htu: tokenUrl })).expect(200);
      expect(claimsOf(ok.body.access_token).cnf).toEqual({ jkt: await thumbprint(actorPair) });
    });
  });
});
