import { protectedResourceMetadataUrl } from '@agentauth/core';
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { CredentialsService, InvalidClientCredentials } from '@agentauth/credentials';
import { ApiKeyHasher } from '../../../libs/credentials/src/api-key.hasher';
import { CredentialsRepository } from '../../../libs/credentials/src/credentials.repository';
import { createTestApp, type TestApp } from '../../support/app';
import {
  aKey,
  anAgent,
  API,
  aTree,
  authStatus,
  bearer,
  type Caller,
  claimsOf,
  type KeyHolder,
  requestToken,
  withFreshToken,
} from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { auditEventsOf, withDb } from '../../factories/db';

const SCOPES = ['agents:read', 'agents:write', 'credentials:read', 'credentials:write'];

describe('credential lifecycle', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function agentWithKey(): Promise<{ root: Caller; agent: Caller }> {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: SCOPES }));
    return { root, agent };
  }

  /**
   * An agent with a usable key, and keys that must all fail exactly like an unknown one: unknown prefix,
   * malformed, wrong secret, revoked, expired, rotated out past its grace, and the key of a suspended agent
   * (`inactiveAgent`, presented for `suspendedAgent`). Moves the frozen clock past the expiry and the grace.
   */
  async function keysThatMustFail(frozen: ReturnType<typeof freezeClock>) {
    const { root, agent } = await agentWithKey();
    const revoked = await aKey(t, root, agent.agent);
    await request(t.http).delete(`${API}/credentials/${revoked.credentialId}`).set(root.auth).expect(200);
    const expiring = await aKey(t, root, agent.agent, {
      expires_at: new Date(frozen.frozenAt + 1000).toISOString(),
    });
    const rotatedOut = await aKey(t, root, agent.agent);
    await request(t.http)
      .post(`${API}/credentials/${rotatedOut.credentialId}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 1 })
      .expect(200);
    const suspendedAgent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
    await request(t.http)
      .patch(`${API}/agents/${suspendedAgent.agent.id}`)
      .set(root.auth)
      .send({ status: 'suspended' })
      .expect(200);
    frozen.clock.advance(1000);

    const [prefix] = agent.apiKey.split('_').slice(1, 2);
    const keys = {
      unknown: `aa_${'z'.repeat(16)}_${randomBytes(32).toString('base64url')}`,
      malformed: 'aa_not-a-key',
      wrongSecret: `aa_${prefix}_${randomBytes(32).toString('base64url')}`,
      revoked: revoked.apiKey,
      expired: expiring.apiKey,
      rotatedOut: rotatedOut.apiKey,
      inactiveAgent: suspendedAgent.apiKey,
    };
    return { root, agent, suspendedAgent, keys };
  }

  it('issues a key once, lists it masked, never with its hash or secret', async () => {
    const { root, agent } = await agentWithKey();
    const created = await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ agent_id: agent.agent.id, name: 'ci', scopes: ['agents:read'] })
      .expect(201);
    expect(created.body).toMatchObject({
      agent_id: agent.agent.id,
      name: 'ci',
      scopes: ['agents:read'],
      status: 'active',
      api_key: expect.stringMatching(/^aa_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/),
    });
    expect(created.body.api_key.startsWith(`aa_${created.body.prefix}_`)).toBe(true);
    const list = await request(t.http)
      .get(`${API}/credentials`)
      .query({ agent_id: agent.agent.id })
      .set(root.auth)
      .expect(200);
    const listed = list.body.items.find((c: { id: string }) => c.id === created.body.id);
    expect(listed.masked_key).toBe(`aa_${created.body.prefix}_****`);
    expect(listed).toMatchObject({ type: 'api_key', kid: null, alg: null, thumbprint: null, jwk: null });
    expect(Object.keys(listed).sort()).toEqual(
      [
        'id',
        'agent_id',
        'type',
        'name',
        'prefix',
        'masked_key',
        'kid',
        'alg',
        'thumbprint',
        'jwk',
        'scopes',
        'status',
        'expires_at',
        'grace_until',
        'rotated_to_id',
        'last_used_at',
        'created_at',
        'revoked_at',
      ].sort(),
    );
    expect(list.text).not.toContain(created.body.api_key.split('_').slice(2).join('_'));
    expect(list.text).not.toContain('argon2');
  });

  it("defaults a key to the agent's scopes that the caller holds", async () => {
    const { root, agent } = await agentWithKey();
    const narrowCaller = await aKey(t, root, root.agent, { scopes: ['agents:read', 'credentials:write'] });
    const created = await request(t.http)
      .post(`${API}/credentials`)
      .set(narrowCaller.auth)
      .send({ agent_id: agent.agent.id })
      .expect(201);
    // the agent has agents:read/write and credentials:read/write; the caller holds only these two
    expect(created.body.scopes).toEqual(['agents:read', 'credentials:write']);
  });

  it('rotates with a grace period: the old key works until grace_until - 1 ms and stops at grace_until', async () => {
    const frozen = freezeClock(t);
    try {
      const { agent } = await agentWithKey();
      const rotated = await request(t.http)
        .post(`${API}/credentials/${agent.credentialId}/rotate`)
        .set(agent.auth)
        .send({ grace_period_seconds: 60 })
        .expect(200);
      const graceUntil = new Date(frozen.frozenAt + 60_000).toISOString();
      expect(rotated.body.previous).toMatchObject({
        id: agent.credentialId,
        grace_until: graceUntil,
        rotated_to_id: rotated.body.id,
      });
      expect(rotated.body.api_key).not.toBe(agent.apiKey);
      expect(rotated.body.scopes).toEqual(SCOPES);

      const newKey = { agent: agent.agent, apiKey: rotated.body.api_key as string };
      frozen.clock.advance(58_999);
      expect(await authStatus(t, agent)).toBe(200);
      expect(await authStatus(t, newKey)).toBe(200);
      // A token minted with the old key never outlives its grace period…
      const inGrace = await withFreshToken(t, agent);
      expect(claimsOf(inGrace.accessToken).exp * 1000).toBeLessThanOrEqual(frozen.frozenAt + 60_000);
      // …the key itself works until grace_until - 1 ms (no token fits in that last second)…
      frozen.clock.advance(1000);
      await expect(
        t.app.get(CredentialsService).verifyApiKey(agent.agent.id, agent.apiKey),
      ).resolves.toMatchObject({ credential: { id: agent.credentialId } });
      expect((await requestToken(t, agent)).body.error).toBe('invalid_grant');
      frozen.clock.advance(1);
      // …and stops at grace_until, with the tokens minted from it.
      expect(await authStatus(t, agent)).toBe(401);
      await request(t.http).get(`${API}/agents`).set(inGrace.auth).expect(401);
      expect(await authStatus(t, newKey)).toBe(200);
    } finally {
      frozen.restore();
    }
  });

  it('rotates without grace (default): the old key stops at once', async () => {
    const { agent } = await agentWithKey();
    const rotated = await request(t.http)
      .post(`${API}/credentials/${agent.credentialId}/rotate`)
      .set(agent.auth)
      .expect(200);
    expect(await authStatus(t, agent)).toBe(401);
    expect(await authStatus(t, { agent: agent.agent, apiKey: rotated.body.api_key })).toBe(200);
  });

  it('refuses rotating a rotated, revoked or too-graceful key', async () => {
    const { root, agent } = await agentWithKey();
    const tooLong = await request(t.http)
      .post(`${API}/credentials/${agent.credentialId}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: t.config.maxCredentialGraceSeconds + 1 })
      .expect(400);
    expect(tooLong.body.errors[0].field).toBe('grace_period_seconds');
    await request(t.http)
      .post(`${API}/credentials/${agent.credentialId}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 30 })
      .expect(200);
    const twice = await request(t.http)
      .post(`${API}/credentials/${agent.credentialId}/rotate`)
      .set(root.auth)
      .expect(409);
    expect(twice.body.type).toBe('urn:agentauth:problem:credential_rotated');
    const other = await aKey(t, root, agent.agent);
    await request(t.http).delete(`${API}/credentials/${other.credentialId}`).set(root.auth).expect(200);
    await request(t.http).post(`${API}/credentials/${other.credentialId}/rotate`).set(root.auth).expect(409);
  });

  it('revokes at once, idempotently', async () => {
    const { root, agent } = await agentWithKey();
    expect(await authStatus(t, agent)).toBe(200);
    const revoked = await request(t.http)
      .delete(`${API}/credentials/${agent.credentialId}`)
      .set(root.auth)
      .expect(200);
    expect(revoked.body).toMatchObject({
      id: agent.credentialId,
      status: 'revoked',
      revoked_at: expect.any(String),
    });
    expect(await authStatus(t, agent)).toBe(401);
    const again = await request(t.http)
      .delete(`${API}/credentials/${agent.credentialId}`)
      .set(root.auth)
      .expect(200);
    expect(again.body.revoked_at).toBe(revoked.body.revoked_at);
  });

  it('lets a key revoke itself, and a key with expires_at stop exactly then', async () => {
    const frozen = freezeClock(t);
    try {
      const { root, agent } = await agentWithKey();
      const expiresAt = new Date(frozen.frozenAt + 5_000).toISOString();
      const timed = await aKey(t, root, agent.agent, { expires_at: expiresAt });
      // tokens minted with it end with it (exp in whole seconds, never after expires_at)
      expect(claimsOf(timed.accessToken).exp * 1000).toBeLessThanOrEqual(frozen.frozenAt + 5_000);
      frozen.clock.advance(3_999);
      expect(await authStatus(t, timed)).toBe(200);
      frozen.clock.advance(1_000);
      await expect(
        t.app.get(CredentialsService).verifyApiKey(agent.agent.id, timed.apiKey),
      ).resolves.toMatchObject({ credential: { id: timed.credentialId } });
      frozen.clock.advance(1);
      expect(await authStatus(t, timed)).toBe(401);
      await request(t.http).get(`${API}/agents`).set(timed.auth).expect(401);
      await request(t.http).delete(`${API}/credentials/${agent.credentialId}`).set(agent.auth).expect(200);
      expect(await authStatus(t, agent)).toBe(401);
    } finally {
      frozen.restore();
    }
  });

  it('fails unknown, malformed, wrong-secret, revoked, expired, rotated-out keys and inactive agents identically', async () => {
    const frozen = freezeClock(t);
    try {
      const { root, agent, suspendedAgent, keys } = await keysThatMustFail(frozen);
      const holders: Record<string, KeyHolder> = {
        ...Object.fromEntries(
          Object.entries(keys).map(([name, apiKey]) => [name, { agent: agent.agent, apiKey }]),
        ),
        inactiveAgent: { agent: suspendedAgent.agent, apiKey: suspendedAgent.apiKey },
        anotherAgentsKey: { agent: root.agent, apiKey: agent.apiKey },
        unknownClient: { agent: { id: randomUUID() }, apiKey: agent.apiKey },
        notAUuid: { agent: { id: 'not-a-uuid' }, apiKey: agent.apiKey },
      };
      const answers: Record<string, unknown> = {};
      for (const [name, holder] of Object.entries(holders)) {
        const res = await requestToken(t, holder);
        answers[name] = {
          status: res.status,
          challenge: res.headers['www-authenticate'],
          cache: res.headers['cache-control'],
          body: res.body,
        };
      }
      const reference = answers.unknown;
      expect(reference).toEqual({
        status: 401,
        challenge: 'Basic realm="agentauth", charset="UTF-8"',
        cache: 'no-store',
        body: { error: 'invalid_client', error_description: 'Client authentication failed' },
      });
      for (const [name, answer] of Object.entries(answers))
        expect({ name, answer }).toEqual({ name, answer: reference });
      // a raw key is never a Bearer credential of the management API
      const asBearer = await request(t.http).get(`${API}/agents`).set(bearer(agent.apiKey)).expect(401);
      expect(asBearer.headers['www-authenticate']).toBe(
        `Bearer error="invalid_token", resource_metadata="${protectedResourceMetadataUrl(t.config)}"`,
      );
      expect(await authStatus(t, agent)).toBe(200);

      // the service the token endpoint uses: the same error for all, plus a key presented for another agent
      const credentials = t.app.get(CredentialsService);
      const errors = await Promise.all(
        [...Object.values(keys).map((k) => [agent.agent.id, k]), [root.agent.id, agent.apiKey]].map(
          ([id, key]) =>
            credentials.verifyApiKey(id, key).then(
              () => 'verified',
              (e: unknown) =>
                e instanceof InvalidClientCredentials ? `${e.status} ${e.code} ${e.detail}` : String(e),
            ),
        ),
      );
      expect(new Set(errors)).toEqual(new Set(['401 invalid_client Client authentication failed']));
      await expect(credentials.verifyApiKey(agent.agent.id, agent.apiKey)).resolves.toMatchObject({
        agent: { id: agent.agent.id },
        credential: { id: agent.credentialId },
        scopes: SCOPES,
      });
    } finally {
      frozen.restore();
    }
  });

  it('runs one argon2 verify per failed attempt: the stored hash when the prefix is known, else a dummy', async () => {
    const frozen = freezeClock(t);
    const hasher = t.app.get(ApiKeyHasher);
    const credentials = t.app.get(CredentialsService);
    const verify = jest.spyOn(hasher, 'verify');
    try {
      const { agent, suspendedAgent, keys } = await keysThatMustFail(frozen);
      const storedHashOf = (rawKey: string) =>
        withDb(async (db) => {
          const prefix = rawKey.split('_')[1];
          const { rows } = await db.query<{ hash: string }>(
            `SELECT hash FROM credentials WHERE prefix = $1`,
            [prefix],
          );
          return rows[0]?.hash;
        });
      const used: Record<string, string> = {};
      for (const [name, key] of Object.entries(keys)) {
        const agentId = name === 'inactiveAgent' ? suspendedAgent.agent.id : agent.agent.id;
        verify.mockClear();
        await expect(credentials.verifyApiKey(agentId, key)).rejects.toBeInstanceOf(InvalidClientCredentials);
        expect({ name, argon2Verifies: verify.mock.calls.length }).toEqual({ name, argon2Verifies: 1 });
        used[name] = verify.mock.calls[0][0];
      }
      const dummy = used.unknown;
      expect(dummy).toMatch(/^\$argon2id\$/);
      const storedHashes = await withDb(async (db) =>
        (await db.query<{ hash: string }>(`SELECT hash FROM credentials`)).rows.map((r) => r.hash),
      );
      expect(storedHashes).not.toContain(dummy);
      expect(used.malformed).toBe(dummy); // the one dummy hash
      // A known prefix costs a verify against that key's own hash, whatever its state turns out to be.
      for (const name of ['wrongSecret', 'revoked', 'expired', 'rotatedOut', 'inactiveAgent'] as const) {
        expect({ name, hash: used[name] }).toEqual({ name, hash: await storedHashOf(keys[name]) });
      }
    } finally {
      verify.mockRestore();
      frozen.restore();
    }
  });

  it('records last_used_at at most once a minute per key', async () => {
    const frozen = freezeClock(t);
    const touch = jest.spyOn(t.app.get(CredentialsRepository), 'touchLastUsed');
    try {
      const { agent } = await agentWithKey();
      touch.mockClear();
      const lastUsed = async () =>
        withDb(
          async (db) =>
            (await db.query(`SELECT last_used_at FROM credentials WHERE id = $1`, [agent.credentialId]))
              .rows[0].last_used_at as Date | null,
        );
      expect(await authStatus(t, agent)).toBe(200);
      const first = await lastUsed();
      expect(first?.getTime()).toBe(frozen.frozenAt);
      for (let i = 0; i < 5; i++) {
        frozen.clock.advance(10_000);
        expect(await authStatus(t, agent)).toBe(200);
      }
      expect(await lastUsed()).toEqual(first);
      frozen.clock.advance(10_000);
      expect(await authStatus(t, agent)).toBe(200);
      expect((await lastUsed())?.getTime()).toBe(frozen.frozenAt + 60_000);
      // 7 authentications after the one that created the caller's token: the 5 inside the minute were answered
      // by the verified-key cache (no argon2, no write); the one at +60 s verified again and wrote once.
      expect(touch).toHaveBeenCalledTimes(1);
    } finally {
      touch.mockRestore();
      frozen.restore();
    }
  });

  it('audits a failed client authentication and a refused Bearer token, without the key or the token', async () => {
    const key = `aa_${'q'.repeat(16)}_${randomBytes(32).toString('base64url')}`;
    const clientId = randomUUID();
    const res = await requestToken(t, { agent: { id: clientId }, apiKey: key }).expect(401);
    const events = await auditEventsOf(res.headers['x-request-id']);
    expect(events).toEqual([
      expect.objectContaining({
        event_type: 'client_auth.failed',
        outcome: 'failure',
        // Never attributed to the id the caller typed (issue 17): a claim, in details only.
        actor_agent_id: null,
        target_type: null,
        target_id: null,
        details: {
          reason: 'invalid_client',
          cause: 'unknown_key',
          endpoint: 'token',
          claimed_client_id: clientId,
          client_auth_method: 'client_secret_basic',
        },
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(key.slice(20));

    const bogus = `${'e30'}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2ln`;
    const refused = await request(t.http).get(`${API}/agents`).set(bearer(bogus)).expect(401);
    const bearerEvents = await auditEventsOf(refused.headers['x-request-id']);
    expect(bearerEvents).toEqual([
      expect.objectContaining({
        event_type: 'client_auth.failed',
        outcome: 'failure',
        // header {} has no alg; recorded by the authentication guard, with the route it refused
        details: { reason: 'invalid_token', cause: 'alg_not_allowed', route: 'GET /api/v1/agents' },
      }),
    ]);
    expect(JSON.stringify(bearerEvents)).not.toContain(bogus);
  });

  it('narrowing an agent narrows its keys; keys never exceed the agent at verification', async () => {
    const { root, agent } = await agentWithKey();
    await request(t.http)
      .patch(`${API}/agents/${agent.agent.id}`)
      .set(root.auth)
      .send({ allowed_scopes: ['agents:read'] })
      .expect(200);
    const verified = await t.app.get(CredentialsService).verifyApiKey(agent.agent.id, agent.apiKey);
    expect(verified.scopes).toEqual(['agents:read']);
    expect(verified.credential.scopes).toEqual(['agents:read']);
  });
});
