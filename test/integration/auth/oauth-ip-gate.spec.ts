import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { CredentialsService } from '@agentauth/credentials';
import { createTestApp, type TestApp } from '../../support/app';
import { redisKeyPrefix } from '../../support/test-env';
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
import { introspect } from './auth-helpers';

/**
 * The token, introspection and revocation endpoints refuse a client IP whose failure budget is spent
 * (CONTRACT §7) before they use anything it presents: a valid key gets no token, a key is never verified
 * (argon2), a Bearer caller is not accepted, a token is not revoked (docs/rate-limiting.md).
 */
const IP_LIMIT = 4;
const freshPrefix = () => `${redisKeyPrefix()}${randomUUID()}:`;

describe('an IP over its failure budget is refused at every OAuth endpoint before anything it presented is used', () => {
  let t: TestApp;
  let root: Caller;
  let token: string;
  const ip = '198.51.100.77';
  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_IP_PER_MINUTE: String(IP_LIMIT),
      REDIS_KEY_PREFIX: freshPrefix(),
      TRUST_PROXY_CIDRS: '127.0.0.1/32',
    });
    root = await aTree(t);
    token = (await requestToken(t, root).expect(200)).body.access_token; // the key is now cached
    for (let i = 0; i < IP_LIMIT; i++) {
      await request(t.http)
        .post(`${API}/auth/token`)
        .set('X-Forwarded-For', ip)
        .set(basicAuth(root.agent.id, `${root.apiKey}x`))
        .type('form')
        .send({ grant_type: 'client_credentials' })
        .expect(401);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const fromIp = (path: string) =>
    request(t.http).post(`${API}${path}`).set('X-Forwarded-For', ip).type('form');
  const expectRfc429 = (res: request.Response) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      error: 'rate_limited',
      error_description: expect.stringMatching(/retry after/),
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['ratelimit-remaining']).toBe('0');
  };
  const issuedFor = async (requestId: string) =>
    t.app
      .get(DataSource)
      .query(
        `SELECT event_type FROM audit_events WHERE request_id = $1 AND event_type <> 'rate_limit.exceeded'`,
        [requestId],
      );

  it('a valid, cached key gets no token: 429, nothing audited but the limit', async () => {
    const res = await fromIp('/auth/token')
      .set(basicAuth(root.agent.id, root.apiKey))
      .send({ grant_type: 'client_credentials' });
    expectRfc429(res);
    expect(await issuedFor(res.headers['x-request-id'])).toEqual([]);
  });

  it('a key that is not cached is never verified (no argon2 for a refused IP)', async () => {
    const other = await aKey(t, root, await anAgent(t, root));
    const verify = jest.spyOn(t.app.get(CredentialsService), 'verifyApiKey');
    try {
      expectRfc429(
        await fromIp('/auth/token')
          .set(basicAuth(other.agent.id, other.apiKey))
          .send({ grant_type: 'client_credentials' }),
      );
      expect(verify).not.toHaveBeenCalled();
    } finally {
      verify.mockRestore();
    }
    await requestToken(t, other).expect(200); // from another address it works
  });

  it('introspection by client credentials and by Bearer token, and revocation, are refused the same way', async () => {
    expectRfc429(
      await fromIp('/auth/token/introspect').set(basicAuth(root.agent.id, root.apiKey)).send({ token }),
    );
    expectRfc429(await fromIp('/auth/token/introspect').set(bearer(token)).send({ token }));
    const revoke = await fromIp('/auth/token/revoke')
      .set(basicAuth(root.agent.id, root.apiKey))
      .send({ token });
    expectRfc429(revoke);
    expect(await issuedFor(revoke.headers['x-request-id'])).toEqual([]);
    // the token was not revoked
    expect((await introspect(t, root, token).expect(200)).body.active).toBe(true);
  });

  it('a malformed request is refused by the limit too, not by its own error', async () => {
    expectRfc429(await fromIp('/auth/token').send({}));
    expectRfc429(await fromIp('/auth/token/introspect').send({}));
  });
});
