import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { anAgent, API, aTree } from '../../factories/agents';
import { auditEventsOf, withDb } from '../../factories/db';
import { aKeyPair, aPublicKeyCredential } from '../../factories/public-keys';

/** CONTRACT §9: public-key credentials — registration, validation, listing, rotation, revocation, bootstrap. */
describe('public-key credentials', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function credentialRows(agentId: string): Promise<number> {
    return withDb(async (db) => {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM credentials WHERE agent_id = $1', [
        agentId,
      ]);
      return rows[0].n as number;
    });
  }

  it.each([
    ['RS256', 'RSA'],
    ['ES256', 'EC'],
    ['EdDSA', 'OKP'],
  ] as const)(
    'registers a %s public key: kid = its RFC 7638 thumbprint, no secret returned, listed masked-free',
    async (alg, kty) => {
      const root = await aTree(t);
      const agent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
      const pair = aKeyPair(alg);
      const res = await request(t.http)
        .post(`${API}/credentials`)
        .set(root.auth)
        .send({ type: 'public_key', agent_id: agent.id, jwk: pair.publicJwk, name: 'signer' })
        .expect(201);
      const thumbprint = await calculateJwkThumbprint(pair.publicJwk as unknown as JWK, 'sha256');
      expect(res.body).toMatchObject({
        type: 'public_key',
        agent_id: agent.id,
        kid: thumbprint,
        thumbprint,
        alg,
        prefix: null,
        masked_key: null,
        scopes: ['agents:read'],
        status: 'active',
        jwk: { ...pair.publicJwk, kty, kid: thumbprint, alg, use: 'sig' },
      });
      expect(res.body).not.toHaveProperty('api_key');
      const list = await request(t.http)
        .get(`${API}/credentials`)
        .query({ agent_id: agent.id })
        .set(root.auth)
        .expect(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({ id: res.body.id, type: 'public_key', kid: thumbprint }),
      ]);
      expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
        expect.objectContaining({
          event_type: 'credential.created',
          outcome: 'success',
          target_id: res.body.id,
          details: {
            agent_id: agent.id,
            scopes: ['agents:read'],
            type: 'public_key',
            kid: thumbprint,
            thumbprint,
            alg,
          },
        }),
      ]);
    },
  );

  it("keeps the JWK's own kid and alg (PS256 on an RSA key)", async () => {
    const root = await aTree(t);
    const pair = aKeyPair('PS256');
    const body = await aPublicKeyCredential(t, root, root.agent, {
      ...pair.publicJwk,
      kid: 'ci-2026',
      alg: 'PS256',
    });
    expect(body).toMatchObject({ kid: 'ci-2026', alg: 'PS256' });
  });

  it.each([
    ['a private RSA key', () => aKeyPair('RS256').privateJwk, /private key material \(d, p, q, dp, dq, qi\)/],
    ['a private EC key', () => aKeyPair('ES256').privateJwk, /private key material \(d\)/],
    ['a private Ed25519 key', () => aKeyPair('EdDSA').privateJwk, /private key material \(d\)/],
    ['a symmetric key', () => ({ kty: 'oct', k: 'c2VjcmV0' }), /private key material \(k\)/],
    ['RSA 1024', () => aKeyPair('RS256', 1024).publicJwk, /2048 to 8192 bits \(this one: 1024\)/],
    ['EC P-384', () => ({ ...aKeyPair('ES256').publicJwk, crv: 'P-384' }), /P-256/],
    [
      'an EC point off the curve',
      () => ({ ...aKeyPair('ES256').publicJwk, y: Buffer.alloc(32, 7).toString('base64url') }),
      /not a valid public key/,
    ],
    [
      'an alg the key cannot sign with',
      () => ({ ...aKeyPair('RS256').publicJwk, alg: 'ES256' }),
      /RS256, PS256/,
    ],
    ['alg none', () => ({ ...aKeyPair('RS256').publicJwk, alg: 'none' }), /RS256, PS256/],
    ['use enc', () => ({ ...aKeyPair('ES256').publicJwk, use: 'enc' }), /use must be "sig"/],
    ['no kty', () => ({ x: 'abc' }), /kty must be/],
  ])('refuses %s with 400 and stores nothing', async (_what, jwk, message) => {
    const root = await aTree(t);
    const before = await credentialRows(root.agent.id);
    const res = await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ type: 'public_key', jwk: jwk() })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toMatch(message);
    expect(JSON.stringify(res.body)).not.toMatch(/"d":/);
    expect(await credentialRows(root.agent.id)).toBe(before);
  });

  it('refuses type public_key without a jwk, and a jwk on an API key (400)', async () => {
    const root = await aTree(t);
    await request(t.http).post(`${API}/credentials`).set(root.auth).send({ type: 'public_key' }).expect(400);
    await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ type: 'api_key', jwk: aKeyPair().publicJwk })
      .expect(400);
  });

  it('refuses a second active key with the same kid or the same key for one agent (409), not for another agent', async () => {
    const root = await aTree(t);
    const agent = await anAgent(t, root);
    const pair = aKeyPair('ES256');
    await aPublicKeyCredential(t, root, agent, { ...pair.publicJwk, kid: 'k1' });
    const sameKid = await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ type: 'public_key', agent_id: agent.id, jwk: { ...aKeyPair('ES256').publicJwk, kid: 'k1' } })
      .expect(409);
    expect(sameKid.body.type).toMatch(/public_key_exists$/);
    await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ type: 'public_key', agent_id: agent.id, jwk: { ...pair.publicJwk, kid: 'k2' } })
      .expect(409);
    await aPublicKeyCredential(t, root, root.agent, { ...pair.publicJwk, kid: 'k1' });
  });

  it('rotates a public key to the body jwk (required) with a grace period, and revokes it', async () => {
    const root = await aTree(t);
    const agent = await anAgent(t, root);
    const first = await aPublicKeyCredential(t, root, agent, {
      ...aKeyPair('ES256').publicJwk,
      kid: 'signing',
    });
    await request(t.http)
      .post(`${API}/credentials/${first.id}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 60 })
      .expect(400);
    await request(t.http)
      .post(`${API}/credentials/${first.id}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 60, jwk: aKeyPair('ES256').privateJwk })
      .expect(400);
    const next = aKeyPair('EdDSA');
    // The same kid for the new key is fine: the old key is rotated out (and tried too during its grace).
    const rotated = await request(t.http)
      .post(`${API}/credentials/${first.id}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 60, jwk: { ...next.publicJwk, kid: 'signing' } })
      .expect(200);
    expect(rotated.body).toMatchObject({
      type: 'public_key',
      kid: 'signing',
      alg: 'EdDSA',
      agent_id: agent.id,
    });
    expect(rotated.body).not.toHaveProperty('api_key');
    expect(rotated.body.previous).toMatchObject({ id: first.id, rotated_to_id: rotated.body.id });
    expect(Date.parse(rotated.body.previous.grace_until)).toBeGreaterThan(Date.now() + 50_000);
    expect(await auditEventsOf(rotated.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'credential.rotated',
        details: expect.objectContaining({
          new_credential_id: rotated.body.id,
          type: 'public_key',
          kid: 'signing',
        }),
      }),
    ]);
    const revoked = await request(t.http)
      .delete(`${API}/credentials/${rotated.body.id}`)
      .set(root.auth)
      .expect(200);
    expect(revoked.body).toMatchObject({ status: 'revoked', type: 'public_key' });
    // An API key cannot be rotated into a public key.
    await request(t.http)
      .post(`${API}/credentials/${root.credentialId}/rotate`)
      .set(root.auth)
      .send({ jwk: aKeyPair().publicJwk })
      .expect(400);
  });

  it('deactivating the agent revokes its public keys (the cascade)', async () => {
    const root = await aTree(t);
    const agent = await anAgent(t, root);
    const key = await aPublicKeyCredential(t, root, agent, aKeyPair('ES256').publicJwk);
    await request(t.http).delete(`${API}/agents/${agent.id}`).set(root.auth).expect(200);
    const list = await request(t.http)
      .get(`${API}/credentials`)
      .query({ status: 'revoked' })
      .set(root.auth)
      .expect(200);
    expect(list.body.items.map((c: { id: string }) => c.id)).toContain(key.id);
  });

  it('another tree cannot register a key for, or rotate a key of, an agent it cannot see (404)', async () => {
    const root = await aTree(t);
    const other = await aTree(t);
    const key = await aPublicKeyCredential(t, root, root.agent, aKeyPair('ES256').publicJwk);
    await request(t.http)
      .post(`${API}/credentials`)
      .set(other.auth)
      .send({ type: 'public_key', agent_id: root.agent.id, jwk: aKeyPair().publicJwk })
      .expect(404);
    await request(t.http)
      .post(`${API}/credentials/${key.id}/rotate`)
      .set(other.auth)
      .send({ jwk: aKeyPair().publicJwk })
      .expect(404);
  });

  describe('bootstrap of a secretless root', () => {
    it('takes a jwk: the first credential is that public key, and no API key exists', async () => {
      const pair = aKeyPair('ES256');
      const res = await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name: `secretless-${randomUUID().slice(0, 8)}`, jwk: pair.publicJwk })
        .expect(201);
      expect(res.body.credential).toMatchObject({
        type: 'public_key',
        agent_id: res.body.agent.id,
        alg: 'ES256',
        name: 'bootstrap',
        scopes: res.body.agent.allowed_scopes,
      });
      expect(res.body.credential).not.toHaveProperty('api_key');
      expect(res.text).not.toMatch(/aa_[a-z0-9]{16}_/);
      expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
        expect.objectContaining({
          event_type: 'agent.bootstrapped',
          details: { credential_id: res.body.credential.id, credential_type: 'public_key' },
        }),
      ]);
    });

    it('refuses a private jwk (400) and creates no agent', async () => {
      const name = `refused-${randomUUID().slice(0, 8)}`;
      await request(t.http)
        .post(`${API}/agents/bootstrap`)
        .send({ name, jwk: aKeyPair('EdDSA').privateJwk })
        .expect(400);
      const n = await withDb(
        async (db) =>
          (await db.query('SELECT count(*)::int AS n FROM agents WHERE name = $1', [name])).rows[0].n,
      );
      expect(n).toBe(0);
    });
  });
});
