import { managementResourceIdentifier } from '@agentauth/core';
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { createTestApp, listeningApp, type TestApp } from '../../support/app';
import {
  aKey,
  anAgent,
  API,
  aTree,
  basicAuth,
  bearer,
  type Caller,
  requestToken,
} from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { auditEventsOf } from '../../factories/db';
import { logCapture } from '../../support/log-capture';
import { redisKeyPrefix } from '../../support/test-env';
import { claimsOf } from './auth-helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SCOPES = ['agents:read', 'agents:write', 'credentials:read'];

describe('client_credentials over a real socket, verified with the discovery document only', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await listeningApp();
    base = t.config.publicBaseUrl;
  });
  afterAll(async () => {
    await t.close();
  });

  /** A standard client: discovery → token endpoint (plain form POST) → JWKS, nothing hard-coded but the issuer. */
  async function tokenFromDiscovery(
    headers: Record<string, string>,
    body = 'grant_type=client_credentials',
  ): Promise<{ token: string; metadata: Record<string, string> }> {
    const metadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      string
    >;
    const res = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const json = (await res.json()) as Record<string, unknown>;
    expect(json).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: t.config.accessTokenExpireMinutes * 60,
      scope: expect.any(String),
    });
    return { token: json.access_token as string, metadata };
  }

  it('issues a token to a plain form POST with Basic auth that verifies with createRemoteJWKSet', async () => {
    const root = await aTree(t, { allowed_scopes: SCOPES });
    const { token, metadata } = await tokenFromDiscovery(basicAuth(root.agent.id, root.apiKey));
    expect(metadata.issuer).toBe(base);
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(metadata.jwks_uri)),
      {
        issuer: metadata.issuer,
        audience: managementResourceIdentifier(t.config),
        typ: 'at+jwt',
        algorithms: ['RS256'],
      },
    );
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'at+jwt' });
    expect(payload).toEqual({
      iss: base,
      sub: root.agent.id,
      aud: managementResourceIdentifier(t.config),
      client_id: root.agent.id,
      scope: 'agents:read agents:write credentials:read',
      agent: { trust_level: 'root', root_agent_id: root.agent.id, version: null, capabilities: [] },
      cid: root.credentialId,
      auth_time: expect.any(Number),
      iat: expect.any(Number),
      nbf: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(UUID),
    });
    expect(payload.exp! - payload.iat!).toBe(t.config.accessTokenExpireMinutes * 60);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.auth_time as number).toBeLessThanOrEqual(payload.iat! + 1);
    // and the token opens the management API
    await request(t.http).get(`${API}/agents`).set(bearer(token)).expect(200);
  });

  it('decodes a Basic header whose id and secret are form-urlencoded (RFC 6749 §2.3.1)', async () => {
    const root = await aTree(t, { allowed_scopes: SCOPES });
    // A client may percent-encode every character; the server must decode before comparing.
    const encodeAll = (v: string) =>
      [...Buffer.from(v)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const header = `Basic ${Buffer.from(`${encodeAll(root.agent.id)}:${encodeAll(root.apiKey)}`).toString('base64')}`;
    const { token, metadata } = await tokenFromDiscovery({ Authorization: header });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri)), {
      issuer: base,
      audience: managementResourceIdentifier(t.config),
    });
    expect(payload.sub).toBe(root.agent.id);
    // decoded exactly once: a double-encoded secret does not authenticate
    const raw = `Basic ${Buffer.from(`${root.agent.id}:${encodeAll(encodeAll(root.apiKey))}`).toString('base64')}`;
    const refused = await fetch(metadata.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: raw },
      body: 'grant_type=client_credentials',
    });
    expect(refused.status).toBe(401);
  });

  it('accepts client_secret_post and the JSON form of the same request', async () => {
    const root = await aTree(t, { allowed_scopes: SCOPES });
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: root.agent.id,
      client_secret: root.apiKey,
      scope: 'agents:read',
    }).toString();
    const { token } = await tokenFromDiscovery({}, body);
    expect(claimsOf(token).scope).toBe('agents:read');
    const json = await request(t.http)
      .post(`${API}/auth/token`)
      .send({ grant_type: 'client_credentials', client_id: root.agent.id, client_secret: root.apiKey })
      .expect(200);
    expect(json.body.token_type).toBe('Bearer');
  });
});

describe('client_credentials', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  async function agentWithKey(scopes = SCOPES): Promise<{ root: Caller; agent: Caller }> {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: scopes }));
    return { root, agent };
  }

  describe('scope', () => {
    it('defaults to every scope of the key (sorted, space-separated)', async () => {
      const { agent } = await agentWithKey(['credentials:read', 'agents:write', 'agents:read']);
      const res = await requestToken(t, agent).expect(200);
      expect(res.body.scope).toBe('agents:read agents:write credentials:read');
      expect(claimsOf(res.body.access_token).scope).toBe(res.body.scope);
    });

    it("defaults to the key's own scopes when the key is narrower than its agent", async () => {
      const { root, agent } = await agentWithKey();
      const narrow = await aKey(t, root, agent.agent, { scopes: ['agents:read'] });
      expect((await requestToken(t, narrow).expect(200)).body.scope).toBe('agents:read');
      const refused = await requestToken(t, narrow, { scope: 'agents:write' }).expect(400);
      expect(refused.body.error).toBe('invalid_scope');
    });

    it('grants exactly the requested subset, normalized', async () => {
      const { agent } = await agentWithKey();
      const res = await requestToken(t, agent, { scope: 'credentials:read agents:read agents:read' }).expect(
        200,
      );
      expect(res.body.scope).toBe('agents:read credentials:read');
    });

    it('refuses any scope beyond the key with invalid_scope, and audits the refusal', async () => {
      const { agent } = await agentWithKey();
      for (const scope of ['agents:read policies:write', 'agents:*', 'Agents:Read', 'files:read']) {
        const res = await requestToken(t, agent, { scope }).expect(400);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toEqual({ error: 'invalid_scope', error_description: expect.any(String) });
      }
      const res = await requestToken(t, agent, { scope: 'agents:read policies:write' }).expect(400);
      expect(await auditEventsOf(res.headers['x-request-id'])).toEqual([
        expect.objectContaining({
          event_type: 'token.issue_failed',
          outcome: 'failure',
          actor_agent_id: agent.agent.id,
          details: expect.objectContaining({ grant_type: 'client_credentials', error: 'invalid_scope' }),
        }),
      ]);
    });

    it('treats offline_access as a reserved word: never checked, never in scope', async () => {
      const { agent } = await agentWithKey(['agents:read']);
      const alone = await requestToken(t, agent, { scope: 'offline_access' }).expect(200);
      expect(alone.body.scope).toBe('agents:read');
      const mixed = await requestToken(t, agent, { scope: 'agents:read offline_access' }).expect(200);
      expect(mixed.body.scope).toBe('agents:read');
      expect(claimsOf(mixed.body.access_token).scope).toBe('agents:read');
    });

    it('issues a token with no scope for a key that has none', async () => {
      const { root } = await agentWithKey();
      const bare = await aKey(t, root, await anAgent(t, root, {}));
      const res = await requestToken(t, bare).expect(200);
      expect(res.body.scope).toBe('');
      await request(t.http).get(`${API}/agents`).set(bearer(res.body.access_token)).expect(403);
    });
  });

  describe('audience (RFC 8707 resource / RFC 8693 audience)', () => {
    it('sets aud from resource or audience (a registered resource server); such a token never opens the management API', async () => {
      const root = await aTree(t);
      await aScope(t, root, 'files:read');
      const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['files:read'] }));
      const server = await aResourceServer(t, root, { scopes: ['files:read'] });
      const byResource = await requestToken(t, agent, { resource: server.identifier }).expect(200);
      expect(claimsOf(byResource.body.access_token).aud).toBe(server.identifier);
      await request(t.http).get(`${API}/agents`).set(bearer(byResource.body.access_token)).expect(401);
      const byAudience = await requestToken(t, agent, { audience: server.identifier }).expect(200);
      expect(claimsOf(byAudience.body.access_token).aud).toBe(server.identifier);
      const same = await requestToken(t, agent, {
        audience: server.identifier,
        resource: server.identifier,
      }).expect(200);
      expect(claimsOf(same.body.access_token).aud).toBe(server.identifier);
      for (const params of [
        { audience: 'billing', resource: server.identifier } as Record<string, string>,
        { audience: 'billing' }, // not a resource server of the tree
        { resource: 'https://a.example' },
      ]) {
        const res = await requestToken(t, agent, params);
        expect({ params, status: res.status, error: res.body.error }).toEqual({
          params,
          status: 400,
          error: 'invalid_target',
        });
      }
    });

    it('refuses a resource that is not an absolute URI without fragment', async () => {
      const { agent } = await agentWithKey();
      for (const resource of ['files', '/relative', 'https://a.example/#frag', 'https://a b.example', '']) {
        const res = await requestToken(t, agent, { resource }).expect(400);
        expect(res.body.error).toBe('invalid_target');
      }
      const spaced = await requestToken(t, agent, { audience: 'two words' }).expect(400);
      expect(spaced.body.error).toBe('invalid_target');
    });
  });

  describe('lifetime', () => {
    it("never outlives the agent chain's expires_at nor the key's", async () => {
      const frozen = freezeClock(t);
      try {
        const root = await aTree(t);
        const expiresAt = new Date(frozen.frozenAt + 300_500);
        const eph = await aKey(
          t,
          root,
          await anAgent(t, root, {
            trust_level: 'ephemeral',
            expires_at: expiresAt.toISOString(),
            allowed_scopes: ['agents:read'],
          }),
        );
        const res = await requestToken(t, eph).expect(200);
        const claims = claimsOf(res.body.access_token);
        expect(claims.exp).toBe(Math.floor(expiresAt.getTime() / 1000));
        expect(res.body.expires_in).toBe(claims.exp - claims.iat);

        const timedKey = await aKey(t, root, root.agent, {
          expires_at: new Date(frozen.frozenAt + 120_000).toISOString(),
        });
        const timed = claimsOf((await requestToken(t, timedKey).expect(200)).body.access_token);
        expect(timed.exp).toBe(Math.floor((frozen.frozenAt + 120_000) / 1000));
      } finally {
        frozen.restore();
      }
    });
  });

  describe('client authentication failures', () => {
    it('answers every failure with the same invalid_client (401, WWW-Authenticate: Basic)', async () => {
      const { root, agent } = await agentWithKey();
      const revoked = await aKey(t, root, agent.agent);
      await request(t.http).delete(`${API}/credentials/${revoked.credentialId}`).set(root.auth).expect(200);
      const rotatedOut = await aKey(t, root, agent.agent);
      await request(t.http)
        .post(`${API}/credentials/${rotatedOut.credentialId}/rotate`)
        .set(root.auth)
        .expect(200);
      const suspended = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
      await request(t.http)
        .patch(`${API}/agents/${suspended.agent.id}`)
        .set(root.auth)
        .send({ status: 'suspended' })
        .expect(200);
      const deactivated = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
      await request(t.http).delete(`${API}/agents/${deactivated.agent.id}`).set(root.auth).expect(200);
      const parent = await aKey(
        t,
        root,
        await anAgent(t, root, { allowed_scopes: ['agents:read', 'agents:write'] }),
      );
      const underSuspended = await aKey(
        t,
        root,
        await anAgent(t, parent, { allowed_scopes: ['agents:read'] }),
      );
      await request(t.http)
        .patch(`${API}/agents/${parent.agent.id}`)
        .set(root.auth)
        .send({ status: 'suspended' })
        .expect(200);

      const cases: Record<string, request.Test> = {
        wrongSecret: requestToken(t, { agent: agent.agent, apiKey: `${agent.apiKey.slice(0, -6)}abcdef` }),
        unknownClient: requestToken(t, { agent: { id: randomUUID() }, apiKey: agent.apiKey }),
        otherAgentsKey: requestToken(t, { agent: root.agent, apiKey: agent.apiKey }),
        revokedKey: requestToken(t, revoked),
        rotatedOutKey: requestToken(t, rotatedOut),
        suspendedAgent: requestToken(t, suspended),
        deactivatedAgent: requestToken(t, deactivated),
        underSuspendedAncestor: requestToken(t, underSuspended),
        malformedBasic: request(t.http)
          .post(`${API}/auth/token`)
          .set('Authorization', 'Basic !!!')
          .type('form')
          .send({ grant_type: 'client_credentials' }),
        noClientAuthentication: request(t.http)
          .post(`${API}/auth/token`)
          .type('form')
          .send({ grant_type: 'client_credentials' }),
        postWithoutSecret: request(t.http)
          .post(`${API}/auth/token`)
          .type('form')
          .send({ grant_type: 'client_credentials', client_id: agent.agent.id, client_secret: '' }),
      };
      for (const [name, pending] of Object.entries(cases)) {
        const res = await pending;
        expect({
          name,
          status: res.status,
          challenge: res.headers['www-authenticate'],
          cache: res.headers['cache-control'],
          body: res.body,
        }).toEqual({
          name,
          status: 401,
          challenge: 'Basic realm="agentauth", charset="UTF-8"',
          cache: 'no-store',
          body: { error: 'invalid_client', error_description: 'Client authentication failed' },
        });
        const events = await auditEventsOf(res.headers['x-request-id']);
        expect(events).toEqual([
          expect.objectContaining({
            event_type: 'client_auth.failed',
            outcome: 'failure',
            details: expect.objectContaining({ reason: 'invalid_client', endpoint: 'token' }),
          }),
        ]);
        expect(JSON.stringify(events)).not.toContain(agent.apiKey);
      }
      expect(logCapture.containing(agent.apiKey)).toEqual([]);
    });

    it('refuses two authentication methods at once, unsupported grants and missing parameters', async () => {
      const { agent } = await agentWithKey();
      const both = await request(t.http)
        .post(`${API}/auth/token`)
        .set(basicAuth(agent.agent.id, agent.apiKey))
        .type('form')
        .send({ grant_type: 'client_credentials', client_secret: agent.apiKey })
        .expect(400);
      expect(both.body.error).toBe('invalid_request');
      const unsupported = await request(t.http)
        .post(`${API}/auth/token`)
        .set(basicAuth(agent.agent.id, agent.apiKey))
        .type('form')
        .send({ grant_type: 'password', username: 'a', password: 'b' })
        .expect(400);
      expect(unsupported.body).toEqual({
        error: 'unsupported_grant_type',
        error_description: 'The grant type "password" is not supported',
      });
      const missing = await request(t.http)
        .post(`${API}/auth/token`)
        .set(basicAuth(agent.agent.id, agent.apiKey))
        .type('form')
        .send({ scope: 'agents:read' })
        .expect(400);
      expect(missing.body).toEqual({
        error: 'invalid_request',
        error_description: 'The parameter "grant_type" is required',
      });
    });
  });

  it('audits token.issued with the grant type, scope, aud and jti — never the token', async () => {
    const { agent } = await agentWithKey();
    const res = await requestToken(t, agent, { scope: 'agents:read' }).expect(200);
    const claims = claimsOf(res.body.access_token);
    const events = await auditEventsOf(res.headers['x-request-id']);
    expect(events).toEqual([
      expect.objectContaining({
        event_type: 'token.issued',
        outcome: 'success',
        actor_agent_id: agent.agent.id,
        on_behalf_of: null,
        root_agent_id: agent.agent.root_agent_id,
        target_type: 'token',
        target_id: claims.jti,
        details: {
          grant_type: 'client_credentials',
          scope: 'agents:read',
          aud: managementResourceIdentifier(t.config),
          jti: claims.jti,
          exp: claims.exp,
          client_auth_method: 'client_secret_basic',
          credential_id: agent.credentialId,
          dpop_bound: false,
        },
      }),
    ]);
    expect(JSON.stringify(events)).not.toContain(res.body.access_token.split('.')[2]);
    expect(logCapture.containing(res.body.access_token.split('.')[2])).toEqual([]);
  });

  it('lists client_credentials in discovery', async () => {
    const res = await request(t.http).get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body.grant_types_supported).toContain('client_credentials');
  });

  it('signs with the JWKS key named in the header', async () => {
    const { agent } = await agentWithKey();
    const token = (await requestToken(t, agent).expect(200)).body.access_token as string;
    const jwks = (await request(t.http).get(`${API}/auth/jwks`).expect(200)).body;
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(decodeProtectedHeader(token).kid);
  });
});

describe('failed client authentication is rate limited per IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A fresh Redis namespace: the socket IP's bucket is not shared with the other tests of this worker.
    t = await createTestApp({
      RATE_LIMIT_IP_PER_MINUTE: '4',
      REDIS_KEY_PREFIX: `${redisKeyPrefix()}${randomUUID()}:`,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses the IP with 429 (OAuth shape) once its failures reached the limit; successes do not count', async () => {
    const root = await aTree(t); // the bootstrap call counts (an unauthenticated public call): 1 of 4
    // successes never count against the IP
    for (let i = 0; i < 4; i++) await requestToken(t, root).expect(200);
    for (let i = 0; i < 3; i++) {
      await requestToken(t, { agent: root.agent, apiKey: `${root.apiKey}x` }).expect(401);
    }
    const limited = await requestToken(t, root).expect(429);
    // RFC 6749 shape with the extension code docs/rate-limiting.md names, and the headers of every 429
    expect(limited.headers['content-type']).toMatch(/^application\/json/);
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(limited.body).toEqual({
      error: 'rate_limited',
      error_description: expect.stringMatching(/^Rate limit exceeded; retry after \d+ s$/),
    });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-limit']).toBe('4');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe(limited.headers['retry-after']);
  });
});
