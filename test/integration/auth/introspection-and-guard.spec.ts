import { protectedResourceMetadataUrl } from '@agentauth/core';
import request from 'supertest';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type Redis from 'ioredis';
import { AgentsService } from '@agentauth/agents';
import { Clock, REDIS } from '@agentauth/core';
import { CredentialsService } from '@agentauth/credentials';
import { RateLimiterService } from '@agentauth/ratelimit';
import { createTestApp, type TestApp } from '../../support/app';
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
import { claimsOf, forgeries, guardStatus, introspect } from './auth-helpers';
import { recordRedisCommands } from '../../support/raw-redis';
import { ClientAuthenticator } from '../../../libs/auth/src/protocol/client-authenticator.service';

const INVALID_TOKEN_PROBLEM = {
  type: 'urn:agentauth:problem:invalid_token',
  title: 'Unauthorized',
  status: 401,
  detail: 'The token is invalid or expired',
  request_id: expect.any(String),
};

describe('the Bearer guard and introspection refuse every forged or dead token', () => {
  let t: TestApp;
  let root: Caller;
  let real: string;
  let forged: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    real = (await requestToken(t, root).expect(200)).body.access_token;
    forged = await forgeries(t, real);
  });
  afterAll(async () => {
    await t.close();
  });

  it('the real token works at both (the forgeries below differ from it in one respect each)', async () => {
    expect(await guardStatus(t, real)).toBe(200);
    const res = await introspect(t, root, real).expect(200);
    expect(res.body.active).toBe(true);
  });

  const guardRefused = [
    'algNone',
    'hs256WithPublicKey',
    'unknownKid',
    'strangerKeyKnownKid',
    'tamperedPayload',
    'tamperedSignature',
    'wrongIssuer',
    'wrongAudience',
    'typJwt',
    'typDelegation',
    'expired',
    'notYetValid',
    'missingAuthTime',
    'missingClientId',
    'garbage',
  ];

  it.each(guardRefused)(
    'the Bearer guard refuses %s: 401 invalid_token, RFC 6750 challenge',
    async (name) => {
      const res = await request(t.http).get(`${API}/agents`).set(bearer(forged[name]));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(
        `Bearer error="invalid_token", resource_metadata="${protectedResourceMetadataUrl(t.config)}"`,
      );
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual(INVALID_TOKEN_PROBLEM);
    },
  );

  // At introspection `aud` is not checked: a token this server issued for another resource is that resource's
  // to check (RFC 7662 §4); it is tested as active below.
  const introspectionRefused = guardRefused.filter((name) => name !== 'wrongAudience');

  it.each(introspectionRefused)('introspection answers exactly {"active": false} for %s', async (name) => {
    const res = await introspect(t, root, forged[name]).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ active: false });
  });

  it("introspection shows a token for another audience as active, with its aud (the resource's to check)", async () => {
    const res = await introspect(t, root, forged.wrongAudience).expect(200);
    expect(res.body).toMatchObject({ active: true, aud: 'https://somebody-else.example' });
  });

  it('a token dies at exp by the server clock, at the guard and at introspection', async () => {
    const token = (await requestToken(t, root).expect(200)).body.access_token as string;
    const { exp } = claimsOf(token);
    const clock = t.app.get(Clock);
    try {
      clock.advance(exp * 1000 - clock.nowMs() - 1000);
      expect(await guardStatus(t, token)).toBe(200);
      clock.advance(1000);
      expect(await guardStatus(t, token)).toBe(401);
      expect((await introspect(t, root, token).expect(200)).body).toEqual({ active: false });
    } finally {
      clock.reset();
    }
  });

  it('the guard reads no database row for a valid token (revocation state: one Redis MGET)', async () => {
    // Authentication is what is measured here. The rate limiter after it reads the agent's effective limit
    // (one chain read, cached per process for OVERRIDE_CACHE_TTL_MS): warm that cache explicitly so this
    // test does not depend on an earlier test having called as this agent.
    await t.app.get(RateLimiterService).agentLimit(root.agent.id);
    const query = jest.spyOn(t.app.get<DataSource>(getDataSourceToken()), 'query');
    const activity = jest.spyOn(t.app.get(AgentsService), 'getActivity');
    const verifyKey = jest.spyOn(t.app.get(CredentialsService), 'verifyApiKey');
    const redis = recordRedisCommands(t.app.get<Redis>(REDIS));
    try {
      // GET /health-like cheapness is not available behind @Auth; the list route's own query is a query
      // builder call, which does not go through DataSource.query.
      await request(t.http).get(`${API}/agents`).query({ limit: 1 }).set(bearer(real)).expect(200);
      expect(query).not.toHaveBeenCalled();
      expect(activity).not.toHaveBeenCalled();
      expect(verifyKey).not.toHaveBeenCalled();
      const commands = redis
        .names()
        // the rate limiter's script and the revocation probe's EXISTS are not authentication
        .filter((name) => !['evalsha', 'eval', 'exists'].includes(name));
      expect(commands).toEqual(['mget']);
    } finally {
      query.mockRestore();
      activity.mockRestore();
      verifyKey.mockRestore();
      redis.restore();
    }
  });
});

describe('introspection (RFC 7662)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it("answers an active token's claims plus active and token_type", async () => {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
    const token = (await requestToken(t, agent).expect(200)).body.access_token as string;
    const res = await introspect(t, root, token).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ ...claimsOf(token), active: true, token_type: 'Bearer' });
    expect(res.body).toMatchObject({
      sub: agent.agent.id,
      client_id: agent.agent.id,
      scope: 'agents:read',
      agent: { trust_level: 'delegated', root_agent_id: root.agent.id },
    });
  });

  it("reads the caller's and the token's revocation state in one pipelined batch, not one after the other", async () => {
    const root = await aTree(t);
    const token = (await requestToken(t, root, { scope: 'agents:read' }).expect(200)).body.access_token;
    await introspect(t, root, token).expect(200); // the caller's key is now verified and cached
    const events: string[] = [];
    const redis = t.app.get<Redis>(REDIS);
    const restore = recordMgetTimeline(redis, events);
    const clients = t.app.get(ClientAuthenticator);
    const authenticate = clients.authenticate.bind(clients);
    const authenticated = jest.spyOn(clients, 'authenticate').mockImplementation(async (...args) => {
      const client = await authenticate(...args);
      events.push('caller authenticated');
      return client;
    });
    try {
      expect((await introspect(t, root, token).expect(200)).body.active).toBe(true);
    } finally {
      restore();
      authenticated.mockRestore();
    }
    // the token's revocation read is sent before the caller's authentication has finished
    expect(events.filter((e) => e === 'send')).toHaveLength(2);
    expect(events.lastIndexOf('send')).toBeLessThan(events.indexOf('caller authenticated'));
    if (isNetworkRedis(redis)) {
      // over a network: both reads sent before either answer came back (one pipelined write)
      expect(events.filter((e) => e !== 'caller authenticated')).toEqual(['send', 'send', 'reply', 'reply']);
    }
  });

  it('answers a refused caller its error whatever the token, and an authenticated one the token, once', async () => {
    const root = await aTree(t);
    const token = (await requestToken(t, root, { scope: 'agents:read' }).expect(200)).body.access_token;
    const refused = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(basicAuth(root.agent.id, `${root.apiKey}x`))
      .type('form')
      .send({ token });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    expect(refused.body.active).toBeUndefined();
    const garbage = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(basicAuth(root.agent.id, `${root.apiKey}x`))
      .type('form')
      .send({ token: 'not-a-jwt' });
    expect(garbage.body.error).toBe('invalid_client');
    expect((await introspect(t, root, 'not-a-jwt').expect(200)).body).toEqual({ active: false });
  });

  it('accepts a Bearer caller holding tokens:introspect, and client_secret_post', async () => {
    const root = await aTree(t);
    const token = (await requestToken(t, root, { scope: 'agents:read' }).expect(200)).body.access_token;
    const viaBearer = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(root.auth)
      .type('form')
      .send({ token })
      .expect(200);
    expect(viaBearer.body.active).toBe(true);
    const viaPost = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .type('form')
      .send({ token, client_id: root.agent.id, client_secret: root.apiKey })
      .expect(200);
    expect(viaPost.body.active).toBe(true);
    // JSON bodies too
    const viaJson = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(basicAuth(root.agent.id, root.apiKey))
      .send({ token })
      .expect(200);
    expect(viaJson.body.active).toBe(true);
  });

  it('refuses callers without tokens:introspect, unauthenticated callers and bad Bearer tokens', async () => {
    const root = await aTree(t);
    const token = root.accessToken;
    const plain = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
    const byClient = await introspect(t, plain, token).expect(400);
    expect(byClient.body).toEqual({
      error: 'unauthorized_client',
      error_description:
        'The client is not authorized to introspect tokens (its agent needs the scope tokens:introspect)',
    });
    expect(byClient.headers['www-authenticate']).toBeUndefined();
    const narrowBearer = (await requestToken(t, root, { scope: 'agents:read' }).expect(200)).body
      .access_token;
    const byBearer = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(bearer(narrowBearer))
      .type('form')
      .send({ token })
      .expect(403);
    expect(byBearer.body.error).toBe('insufficient_scope');
    expect(byBearer.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="tokens:introspect"',
    );
    const badBearer = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(bearer(`${token}x`))
      .type('form')
      .send({ token })
      .expect(401);
    expect(badBearer.body.error).toBe('invalid_token');
    expect(badBearer.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const none = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .type('form')
      .send({ token })
      .expect(401);
    expect(none.body.error).toBe('invalid_client');
    const wrongKey = await introspect(t, { agent: root.agent, apiKey: plain.apiKey }, token).expect(401);
    expect(wrongKey.body.error).toBe('invalid_client');
    const missing = await request(t.http)
      .post(`${API}/auth/token/introspect`)
      .set(basicAuth(root.agent.id, root.apiKey))
      .type('form')
      .send({})
      .expect(400);
    expect(missing.body).toEqual({
      error: 'invalid_request',
      error_description: 'The parameter "token" is required',
    });
  });

  it("answers {active: false} for another tree's token, and for unknown or malformed input", async () => {
    const mine = await aTree(t);
    const theirs = await aTree(t);
    expect((await introspect(t, mine, theirs.accessToken).expect(200)).body).toEqual({ active: false });
    expect((await introspect(t, theirs, theirs.accessToken).expect(200)).body.active).toBe(true);
    for (const junk of ['x', 'a.b.c', 'aa_rt_notatoken', ' ', 'eyJ'.repeat(2500)]) {
      expect((await introspect(t, mine, junk).expect(200)).body).toEqual({ active: false });
    }
  });
});

/**
 * Records when MGETs (the revocation reads) are sent and answered. ioredis funnels commands through
 * `sendCommand`; the embedded mode's in-process client has only the command method.
 */
function isNetworkRedis(client: Redis): boolean {
  return typeof (client as { sendCommand?: unknown }).sendCommand === 'function';
}

function recordMgetTimeline(client: Redis, events: string[]): () => void {
  const track = (promise: Promise<unknown>) =>
    void promise.then(
      () => events.push('reply'),
      () => events.push('reply'),
    );
  if (isNetworkRedis(client)) {
    const original = client.sendCommand.bind(client);
    const spy = jest.spyOn(client, 'sendCommand').mockImplementation((command, stream) => {
      const sent = original(command, stream);
      if (command.name.toLowerCase() === 'mget') {
        events.push('send');
        track(command.promise);
      }
      return sent;
    });
    return () => spy.mockRestore();
  }
  const original = client.mget.bind(client) as (...keys: string[]) => Promise<unknown>;
  const spy = jest.spyOn(client, 'mget').mockImplementation(((...keys: string[]) => {
    events.push('send');
    const reply = original(...keys);
    track(reply);
    return reply;
  }) as unknown as typeof client.mget);
  return () => spy.mockRestore();
}
