import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type Redis from 'ioredis';
import request from 'supertest';
import { REDIS } from '@agentauth/core';
import { listeningApp, type TestApp } from '../../support/app';
import { runOpenIdClient } from '../../support/openid-client';
import { redisKeyPrefix } from '../../support/test-env';
import { anAgent, API, aTree, basicAuth, type Caller, claimsOf } from '../../factories/agents';
import { auditEventsAbout, auditEventsOf } from '../../factories/db';
import {
  aKeyPair,
  aPublicKeyCredential,
  assertionParams,
  clientAssertion,
  type TestKeyAlg,
  type TestKeyPair,
  unsignedJwt,
} from '../../factories/public-keys';

/** A fresh Redis namespace: this suite's many refused authentications must not fill 127.0.0.1's shared bucket. */
const freshPrefix = () => `${redisKeyPrefix()}${randomUUID()}:`;

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'Client authentication failed' };

/** A secretless root (bootstrapped with a public JWK) and its key pair. */
async function aSecretlessRoot(
  t: TestApp,
  alg: TestKeyAlg,
  kid?: string,
): Promise<{ id: string; pair: TestKeyPair }> {
  const pair = aKeyPair(alg);
  const res = await request(t.http)
    .post(`${API}/agents/bootstrap`)
    .send({ name: `pkjwt-${randomUUID().slice(0, 8)}`, jwk: { ...pair.publicJwk, ...(kid ? { kid } : {}) } })
    .expect(201);
  return { id: res.body.agent.id as string, pair };
}

describe('private_key_jwt client authentication (RFC 7523, CONTRACT §9)', () => {
  let t: TestApp;
  let issuer: string;
  beforeAll(async () => {
    t = await listeningApp({ REDIS_KEY_PREFIX: freshPrefix() });
    issuer = t.config.publicBaseUrl;
  });
  afterAll(async () => {
    await t.close();
  });

  function tokenRequest(params: Record<string, string>): request.Test {
    return request(t.http)
      .post(`${API}/auth/token`)
      .type('form')
      .send({ grant_type: 'client_credentials', ...params });
  }

  async function expectInvalidClient(res: request.Response): Promise<void> {
    expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: INVALID_CLIENT });
    expect(res.headers['www-authenticate']).toBe('Basic realm="agentauth", charset="UTF-8"');
  }

  describe('openid-client 6 (unmodified, through discovery only)', () => {
    it.each(['RS256', 'ES256', 'EdDSA'] as const)(
      'authenticates with PrivateKeyJwt (%s) at the token endpoint and at introspection',
      async (alg) => {
        const root = await aSecretlessRoot(t, alg, `key-${alg}`);
        const out = await runOpenIdClient({
          mode: 'private_key_jwt',
          issuer,
          clientId: root.id,
          alg,
          kid: `key-${alg}`,
          privateKeyPkcs8: root.pair.privateKey.export({ format: 'pem', type: 'pkcs8' }),
          scope: 'agents:read',
        });
        expect(out.error).toBeUndefined();
        expect(out.metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
        expect(out.metadata.introspection_endpoint_auth_signing_alg_values_supported).toContain(alg);
        expect(out.tokens).toMatchObject({ token_type: 'bearer', scope: 'agents:read' });
        const claims = claimsOf(out.tokens.access_token);
        expect(claims).toMatchObject({ sub: root.id, client_id: root.id });
        expect(out.introspection).toMatchObject({
          active: true,
          client_id: root.id,
          sub: root.id,
          jti: claims.jti,
        });
        const events = await auditEventsAbout([claims.jti]);
        expect(events).toEqual([
          expect.objectContaining({
            event_type: 'token.issued',
            actor_agent_id: root.id,
            details: expect.objectContaining({ client_auth_method: 'private_key_jwt' }),
          }),
        ]);
      },
    );
  });

  describe('the claim rules', () => {
    let root: Caller;
    let agent: { id: string };
    let pair: TestKeyPair;
    let credentialId: string;
    beforeAll(async () => {
      root = await aTree(t);
      agent = await anAgent(t, root, { allowed_scopes: ['agents:read', 'tokens:introspect'] });
      pair = aKeyPair('RS256');
      credentialId = (await aPublicKeyCredential(t, root, agent, pair.publicJwk)).id;
    });

    const assertion = (options: Parameters<typeof clientAssertion>[3] = {}) =>
      clientAssertion(pair, agent.id, issuer, options);

    it('accepts a valid assertion once; its replay (same jti) is invalid_client', async () => {
      const signed = await assertion();
      const ok = await tokenRequest(assertionParams(signed)).expect(200);
      expect(claimsOf(ok.body.access_token)).toMatchObject({ client_id: agent.id, cid: credentialId });
      await expectInvalidClient(await tokenRequest(assertionParams(signed)));
      const events = await auditEventsOf(
        (await tokenRequest(assertionParams(signed))).headers['x-request-id'],
      );
      expect(events).toEqual([
        expect.objectContaining({
          event_type: 'client_auth.failed',
          // an unauthenticated failure is never attributed to the id the caller typed (CONTRACT §7)
          actor_agent_id: null,
          target_id: null,
          details: {
            reason: 'invalid_client',
            cause: 'assertion_replayed',
            endpoint: 'token',
            client_auth_method: 'private_key_jwt',
            claimed_client_id: agent.id,
          },
        }),
      ]);
      expect(JSON.stringify(events)).not.toContain(signed.split('.')[2]);
    });

    it('a client_id parameter must equal iss', async () => {
      await tokenRequest({ ...assertionParams(await assertion()), client_id: agent.id }).expect(200);
      await expectInvalidClient(
        await tokenRequest({ ...assertionParams(await assertion()), client_id: root.agent.id }),
      );
    });

    it.each([
      ['aud = the token endpoint URL', () => ({ aud: `${issuer}/api/v1/auth/token` })],
      [
        'aud = an array with the issuer and the token endpoint',
        () => ({ aud: [issuer, `${issuer}/api/v1/auth/token`] }),
      ],
      ['aud = the issuer with a trailing slash', () => ({ aud: `${issuer}/` })],
      ['no aud', () => ({ aud: undefined })],
      ['exp too far (now + 400 s)', () => ({ exp: Math.floor(Date.now() / 1000) + 400 })],
      [
        'exp passed',
        () => ({ exp: Math.floor(Date.now() / 1000) - 5, iat: Math.floor(Date.now() / 1000) - 30 }),
      ],
      ['no exp', () => ({ exp: undefined })],
      ['iat in the future (now + 120 s)', () => ({ iat: Math.floor(Date.now() / 1000) + 120 })],
      ['nbf in the future (now + 120 s)', () => ({ nbf: Math.floor(Date.now() / 1000) + 120 })],
      ['no jti', () => ({ jti: undefined })],
      ['sub ≠ iss', () => ({ sub: randomUUID() })],
    ])('refuses %s (invalid_client)', async (_what, claims) => {
      await expectInvalidClient(await tokenRequest(assertionParams(await assertion({ claims: claims() }))));
    });

    it('accepts aud as an array holding only the issuer', async () => {
      await tokenRequest(assertionParams(await assertion({ claims: { aud: [issuer] } }))).expect(200);
    });

    it('refuses alg none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = unsignedJwt({
        iss: agent.id,
        sub: agent.id,
        aud: issuer,
        exp: now + 60,
        jti: randomUUID(),
      });
      await expectInvalidClient(await tokenRequest(assertionParams(jwt)));
    });

    it('refuses HS256 signed with the public key as the secret', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: agent.id, sub: agent.id, aud: issuer, exp: now + 60, jti: randomUUID() };
      for (const secret of [
        pair.publicKey.export({ format: 'pem', type: 'spki' }) as string,
        JSON.stringify(pair.publicJwk),
      ]) {
        const jwt = await new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .sign(new TextEncoder().encode(secret));
        await expectInvalidClient(await tokenRequest(assertionParams(jwt)));
      }
    });

    it('refuses an assertion signed with the key of another agent', async () => {
      const other = await anAgent(t, root);
      const otherPair = aKeyPair('RS256');
      await aPublicKeyCredential(t, root, other, otherPair.publicJwk);
      // other's key, claiming to be `agent`
      await expectInvalidClient(
        await tokenRequest(assertionParams(await clientAssertion(otherPair, agent.id, issuer))),
      );
      // and a key registered nowhere
      await expectInvalidClient(
        await tokenRequest(assertionParams(await clientAssertion(aKeyPair('RS256'), agent.id, issuer))),
      );
    });

    it('a header kid selects that key only', async () => {
      const second = aKeyPair('ES256');
      const registered = await aPublicKeyCredential(t, root, agent, { ...second.publicJwk, kid: 'second' });
      await tokenRequest(
        assertionParams(await clientAssertion(second, agent.id, issuer, { header: { kid: 'second' } })),
      ).expect(200);
      await expectInvalidClient(
        await tokenRequest(
          assertionParams(await clientAssertion(second, agent.id, issuer, { header: { kid: 'other' } })),
        ),
      );
      await request(t.http).delete(`${API}/credentials/${registered.id}`).set(root.auth).expect(200);
    });

    it('two authentication methods at once are invalid_request', async () => {
      const both = await tokenRequest({ ...assertionParams(await assertion()), client_secret: root.apiKey });
      expect(both.status).toBe(400);
      expect(both.body.error).toBe('invalid_request');
      const basic = await tokenRequest(assertionParams(await assertion())).set(
        basicAuth(root.agent.id, root.apiKey),
      );
      expect(basic.status).toBe(400);
      expect(basic.body.error).toBe('invalid_request');
      // refused before authentication: audited like any failed client authentication (CONTRACT §7)
      expect(await auditEventsOf(basic.headers['x-request-id'])).toEqual([
        expect.objectContaining({
          event_type: 'client_auth.failed',
          actor_agent_id: null,
          target_id: null,
          details: { reason: 'invalid_request', cause: expect.any(String), endpoint: 'token' },
        }),
      ]);
    });

    it('fails closed (503) when the replay cache cannot record the jti, and the assertion stays usable', async () => {
      const redis = t.app.get<Redis>(REDIS);
      const set = jest.spyOn(redis, 'set').mockRejectedValueOnce(new Error('redis down'));
      const signed = await assertion();
      try {
        const res = await tokenRequest(assertionParams(signed));
        expect(res.status).toBe(503);
        expect(res.body.access_token).toBeUndefined();
      } finally {
        set.mockRestore();
      }
      await tokenRequest(assertionParams(signed)).expect(200);
    });

    it('a wrong client_assertion_type is invalid_client', async () => {
      await expectInvalidClient(
        await tokenRequest({
          client_assertion_type: 'urn:example:other',
          client_assertion: await assertion(),
        }),
      );
    });
  });

  describe('revocation, rotation and the other endpoints', () => {
    it('a revoked public key stops at once, and tokens minted with it become inactive', async () => {
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
      const pair = aKeyPair('ES256');
      const key = await aPublicKeyCredential(t, root, agent, pair.publicJwk);
      const token = (
        await tokenRequest(assertionParams(await clientAssertion(pair, agent.id, issuer))).expect(200)
      ).body.access_token as string;
      await request(t.http).delete(`${API}/credentials/${key.id}`).set(root.auth).expect(200);
      await expectInvalidClient(
        await tokenRequest(assertionParams(await clientAssertion(pair, agent.id, issuer))),
      );
      const introspection = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .set(basicAuth(root.agent.id, root.apiKey))
        .type('form')
        .send({ token })
        .expect(200);
      expect(introspection.body).toEqual({ active: false });
    });

    it('a rotated public key works during its grace period and not after it', async () => {
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
      const oldPair = aKeyPair('EdDSA');
      const oldKey = await aPublicKeyCredential(t, root, agent, oldPair.publicJwk);
      const newPair = aKeyPair('EdDSA');
      await request(t.http)
        .post(`${API}/credentials/${oldKey.id}/rotate`)
        .set(root.auth)
        .send({ jwk: newPair.publicJwk, grace_period_seconds: 3600 })
        .expect(200);
      await tokenRequest(assertionParams(await clientAssertion(oldPair, agent.id, issuer))).expect(200);
      await tokenRequest(assertionParams(await clientAssertion(newPair, agent.id, issuer))).expect(200);

      const newKey = (
        await request(t.http)
          .get(`${API}/credentials`)
          .query({ agent_id: agent.id, status: 'active' })
          .set(root.auth)
      ).body.items.find((c: { rotated_to_id: string | null; id: string }) => c.id !== oldKey.id);
      await request(t.http)
        .post(`${API}/credentials/${newKey.id}/rotate`)
        .set(root.auth)
        .send({ jwk: aKeyPair('EdDSA').publicJwk, grace_period_seconds: 0 })
        .expect(200);
      await expectInvalidClient(
        await tokenRequest(assertionParams(await clientAssertion(newPair, agent.id, issuer))),
      );
    });

    it('authenticates at introspection and revocation too (one authenticator)', async () => {
      const root = await aSecretlessRoot(t, 'ES256');
      const sign = () => clientAssertion(root.pair, root.id, issuer);
      const token = (await tokenRequest(assertionParams(await sign())).expect(200)).body
        .access_token as string;
      const active = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .type('form')
        .send({ token, ...assertionParams(await sign()) })
        .expect(200);
      expect(active.body).toMatchObject({ active: true, client_id: root.id });
      await request(t.http)
        .post(`${API}/auth/token/revoke`)
        .type('form')
        .send({ token, ...assertionParams(await sign()) })
        .expect(200);
      const after = await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .type('form')
        .send({ token, ...assertionParams(await sign()) })
        .expect(200);
      expect(after.body).toEqual({ active: false });
      // a replayed assertion at introspection: the same invalid_client
      const replayed = await sign();
      await request(t.http)
        .post(`${API}/auth/token/introspect`)
        .type('form')
        .send({ token, ...assertionParams(replayed) })
        .expect(200);
      await expectInvalidClient(
        await request(t.http)
          .post(`${API}/auth/token/introspect`)
          .type('form')
          .send({ token, ...assertionParams(replayed) }),
      );
    });

    it('answers an unknown client exactly as a bad assertion of a known one', async () => {
      const unknown = await tokenRequest(
        assertionParams(await clientAssertion(aKeyPair('ES256'), randomUUID(), issuer)),
      );
      const root = await aSecretlessRoot(t, 'ES256');
      const badSignature = await tokenRequest(
        assertionParams(await clientAssertion(aKeyPair('ES256'), root.id, issuer)),
      );
      const garbage = await tokenRequest(assertionParams('not.a.jwt'));
      for (const res of [unknown, badSignature, garbage]) await expectInvalidClient(res);
    });
  });
});

describe('private_key_jwt failures count against the client IP', () => {
  let t: TestApp;
  let issuer: string;
  beforeAll(async () => {
    t = await listeningApp({ REDIS_KEY_PREFIX: freshPrefix(), RATE_LIMIT_IP_PER_MINUTE: '3' });
    issuer = t.config.publicBaseUrl;
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 once the IP has failed RATE_LIMIT_IP_PER_MINUTE times', async () => {
    const pair = aKeyPair('ES256');
    const send = async () =>
      request(t.http)
        .post(`${API}/auth/token`)
        .type('form')
        .send({
          grant_type: 'client_credentials',
          ...assertionParams(await clientAssertion(pair, randomUUID(), issuer)),
        });
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(401);
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
  });
});
